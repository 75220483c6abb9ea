"""PyTorch's quickstart on a small synthetic FashionMNIST-shaped data set (1x28x28 images,
10 classes): ``DataLoader`` batches, ``CrossEntropyLoss``, accuracy via ``argmax``, then the
trained model saved with ``torch.save`` and loaded back into a fresh one.

Run: ``python examples/fashion_classifier.py``.
"""
import os
import tempfile

import symgrad as torch
from symgrad import nn
from symgrad.utils.data import DataLoader, TensorDataset


def synthetic_fashion(samples, generator):
    """Images around one random pattern per class, and their labels."""
    patterns = torch.randn(10, 1, 28, 28, generator=generator)
    labels = torch.randint(0, 10, (samples,), generator=generator)
    images = patterns.numpy()[labels.numpy()] + 0.8 * torch.randn(samples, 1, 28, 28).numpy()
    return TensorDataset(torch.from_numpy(images), labels)


class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(28 * 28, 128), nn.ReLU(), nn.Linear(128, 10))

    def forward(self, x):
        return self.linear_relu_stack(self.flatten(x))


def train(dataloader, model, loss_fn, optimizer):
    size = len(dataloader.dataset)
    model.train()
    for batch, (X, y) in enumerate(dataloader):
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if batch % 4 == 0:
            print(f"loss: {loss:>7f}  [{(batch + 1) * len(X):>5d}/{size:>5d}]")


def test(dataloader, model, loss_fn):
    model.eval()
    test_loss, correct = 0, 0
    with torch.no_grad():
        for X, y in dataloader:
            pred = model(X)
            test_loss += loss_fn(pred, y).item()
            correct += (pred.argmax(1) == y).type(torch.float).sum().item()
    accuracy = correct / len(dataloader.dataset)
    print(f"Test Error: \n Accuracy: {(100 * accuracy):>0.1f}%, "
          f"Avg loss: {test_loss / len(dataloader):>8f} \n")
    return accuracy


def main(epochs=5, samples=640):
    torch.manual_seed(0)
    training_data, test_data = torch.utils.data.random_split(
        synthetic_fashion(samples, torch.Generator().manual_seed(1)), [0.8, 0.2])
    train_dataloader = DataLoader(training_data, batch_size=64, shuffle=True)
    test_dataloader = DataLoader(test_data, batch_size=64)
    model = NeuralNetwork()
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-2)
    for t in range(epochs):
        print(f"Epoch {t + 1}\n-------------------------------")
        train(train_dataloader, model, loss_fn, optimizer)
        accuracy = test(test_dataloader, model, loss_fn)
    path = os.path.join(tempfile.mkdtemp(), "model.pth")
    torch.save(model.state_dict(), path)
    loaded = NeuralNetwork()
    loaded.load_state_dict(torch.load(path, weights_only=True))
    assert test(test_dataloader, loaded, loss_fn) == accuracy
    return accuracy


if __name__ == "__main__":
    main()
