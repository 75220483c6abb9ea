"""PyTorch's tutorial "What is torch.nn really?" as its readers write it, on a small synthetic
MNIST (28x28 images, 64 training and 32 validation samples): a model by hand with
``requires_grad_`` and ``torch.no_grad`` updates, ``F.cross_entropy``, ``nn.Module`` and
``nn.Parameter``, ``nn.Linear``, ``optim.SGD``, ``TensorDataset`` and ``DataLoader``, ``fit``
with ``model.train()``/``model.eval()``, a CNN with ``F.avg_pool2d``, ``nn.Sequential`` with a
``Lambda`` module, a wrapped data loader and ``torch.device``. The program runs on symgrad
and, where installed, on PyTorch from the same initial weights: losses and accuracies match.
Shuffling draws from different generators, so the compared run does not shuffle; one more
run shuffles, as the tutorial does.
"""
import math

import numpy as np
import pytest

import symgrad

LR = 0.1
BS = 16
EPOCHS = 2


def synthetic_mnist(seed=0):
    """Ten class centres plus noise, flattened 28x28 float32 images, int64 labels."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((10, 784)).astype(np.float32) * 0.5
    labels = rng.integers(0, 10, 96)
    images = (centres[labels] + rng.standard_normal((96, 784)).astype(np.float32)) * 0.3
    return images[:64], labels[:64], images[64:], labels[64:]


def initialise(torch, model, seed):
    """The same initial weights for either library (the tutorial's layers draw their own)."""
    rng = np.random.default_rng(seed)
    model.load_state_dict({name: torch.tensor(rng.uniform(-0.1, 0.1, tuple(value.shape)).astype(np.float32))
                           for name, value in model.state_dict().items()})
    return model


def by_hand(torch, x_train, y_train, start):
    """The first sections: a linear model, log_softmax and nll written out, a manual loop."""
    n, c = x_train.shape
    weights = torch.randn(784, 10) / math.sqrt(784)
    weights.requires_grad_()
    bias = torch.zeros(10, requires_grad=True)
    with torch.no_grad():
        weights.copy_(torch.from_numpy(start))

    def log_softmax(x):
        return x - x.exp().sum(-1).log().unsqueeze(-1)

    def model(xb):
        return log_softmax(xb @ weights + bias)

    def nll(input, target):
        return -input[range(target.shape[0]), target].mean()

    def accuracy(out, yb):
        preds = torch.argmax(out, dim=1)
        return (preds == yb).float().mean()

    loss_func = nll
    xb, yb = x_train[0:BS], y_train[0:BS]
    preds = model(xb)
    log = [tuple(preds.shape), loss_func(preds, yb).item(), accuracy(preds, yb).item()]
    for epoch in range(EPOCHS):
        for i in range((n - 1) // BS + 1):
            start_i = i * BS
            end_i = start_i + BS
            xb = x_train[start_i:end_i]
            yb = y_train[start_i:end_i]
            pred = model(xb)
            loss = loss_func(pred, yb)
            loss.backward()
            with torch.no_grad():
                weights -= weights.grad * LR
                bias -= bias.grad * LR
                weights.grad.zero_()
                bias.grad.zero_()
    log += [loss_func(model(xb), yb).item(), accuracy(model(xb), yb).item()]
    F = torch.nn.functional
    log.append(F.cross_entropy(xb @ weights + bias, yb).item())
    return log


def with_modules(torch, x_train, y_train):
    """nn.Module with nn.Parameter, then nn.Linear, then optim.SGD."""
    nn, F = torch.nn, torch.nn.functional
    loss_func = F.cross_entropy
    n = x_train.shape[0]

    class Mnist_Logistic(nn.Module):
        def __init__(self):
            super().__init__()
            self.weights = nn.Parameter(torch.randn(784, 10) / math.sqrt(784))
            self.bias = nn.Parameter(torch.zeros(10))

        def forward(self, xb):
            return xb @ self.weights + self.bias

    class Mnist_Linear(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(784, 10)

        def forward(self, xb):
            return self.lin(xb)

    log = []
    model = initialise(torch, Mnist_Logistic(), 1)
    log.append(loss_func(model(x_train[:BS]), y_train[:BS]).item())
    for epoch in range(EPOCHS):
        for i in range((n - 1) // BS + 1):
            xb, yb = x_train[i * BS:i * BS + BS], y_train[i * BS:i * BS + BS]
            loss = loss_func(model(xb), yb)
            loss.backward()
            with torch.no_grad():
                for p in model.parameters():
                    p -= p.grad * LR
                model.zero_grad()
    log.append(loss_func(model(x_train[:BS]), y_train[:BS]).item())
    model = initialise(torch, Mnist_Linear(), 2)
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    for epoch in range(EPOCHS):
        for i in range((n - 1) // BS + 1):
            xb, yb = x_train[i * BS:i * BS + BS], y_train[i * BS:i * BS + BS]
            loss = loss_func(model(xb), yb)
            loss.backward()
            opt.step()
            opt.zero_grad()
    log.append(loss_func(model(x_train[:BS]), y_train[:BS]).item())
    return log


def get_data(torch, train_ds, valid_ds, bs, shuffle):
    DataLoader = torch.utils.data.DataLoader
    return (DataLoader(train_ds, batch_size=bs, shuffle=shuffle),
            DataLoader(valid_ds, batch_size=bs * 2))


def loss_batch(model, loss_func, xb, yb, opt=None):
    loss = loss_func(model(xb), yb)
    if opt is not None:
        loss.backward()
        opt.step()
        opt.zero_grad()
    return loss.item(), len(xb)


def fit(torch, epochs, model, loss_func, opt, train_dl, valid_dl):
    log = []
    for epoch in range(epochs):
        model.train()
        for xb, yb in train_dl:
            loss_batch(model, loss_func, xb, yb, opt)
        model.eval()
        with torch.no_grad():
            losses, nums = zip(*[loss_batch(model, loss_func, xb, yb) for xb, yb in valid_dl])
        val_loss = np.sum(np.multiply(losses, nums)) / np.sum(nums)
        log.append(val_loss)
    return log


def with_data_loaders(torch, x_train, y_train, x_valid, y_valid, shuffle):
    """Dataset/DataLoader, fit(), a CNN, nn.Sequential with Lambda, a wrapped loader, a device."""
    nn, F, optim = torch.nn, torch.nn.functional, torch.optim
    TensorDataset = torch.utils.data.TensorDataset
    loss_func = F.cross_entropy
    train_ds, valid_ds = TensorDataset(x_train, y_train), TensorDataset(x_valid, y_valid)
    train_dl, valid_dl = get_data(torch, train_ds, valid_ds, BS, shuffle)
    model = initialise(torch, nn.Sequential(nn.Linear(784, 10)), 3)
    log = fit(torch, EPOCHS, model, loss_func, optim.SGD(model.parameters(), lr=LR), train_dl, valid_dl)

    class Mnist_CNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 16, kernel_size=3, stride=2, padding=1)
            self.conv2 = nn.Conv2d(16, 16, kernel_size=3, stride=2, padding=1)
            self.conv3 = nn.Conv2d(16, 10, kernel_size=3, stride=2, padding=1)

        def forward(self, xb):
            xb = xb.view(-1, 1, 28, 28)
            xb = F.relu(self.conv1(xb))
            xb = F.relu(self.conv2(xb))
            xb = F.relu(self.conv3(xb))
            xb = F.avg_pool2d(xb, 4)
            return xb.view(-1, xb.size(1))

    model = initialise(torch, Mnist_CNN(), 4)
    opt = optim.SGD(model.parameters(), lr=LR, momentum=0.9)
    log += fit(torch, 1, model, loss_func, opt, train_dl, valid_dl)

    class Lambda(nn.Module):
        def __init__(self, func):
            super().__init__()
            self.func = func

        def forward(self, x):
            return self.func(x)

    def preprocess(x, y):
        return x.view(-1, 1, 28, 28), y

    class WrappedDataLoader:
        def __init__(self, dl, func):
            self.dl = dl
            self.func = func

        def __len__(self):
            return len(self.dl)

        def __iter__(self):
            for b in self.dl:
                yield (self.func(*b))

    dev = torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
    train_dl, valid_dl = get_data(torch, train_ds, valid_ds, BS, shuffle)
    train_dl = WrappedDataLoader(train_dl, lambda x, y: (x.view(-1, 1, 28, 28).to(dev), y.to(dev)))
    valid_dl = WrappedDataLoader(valid_dl, preprocess)
    model = nn.Sequential(
        nn.Conv2d(1, 16, kernel_size=3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(16, 16, kernel_size=3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(16, 10, kernel_size=3, stride=2, padding=1), nn.ReLU(),
        nn.AvgPool2d(4), Lambda(lambda x: x.view(x.size(0), -1)))
    model = initialise(torch, model, 5).to(dev)
    opt = optim.SGD(model.parameters(), lr=LR, momentum=0.9)
    log += fit(torch, 1, model, loss_func, opt, train_dl, valid_dl)
    return log


def program(torch, shuffle=False):
    x_train, y_train, x_valid, y_valid = synthetic_mnist()
    start = np.random.default_rng(7).standard_normal((784, 10)).astype(np.float32) / math.sqrt(784)
    x_train, y_train, x_valid, y_valid = map(torch.tensor, (x_train, y_train, x_valid, y_valid))
    assert x_train.dtype == torch.float32 and y_train.dtype == torch.int64
    return (by_hand(torch, x_train, y_train, start) + with_modules(torch, x_train, y_train)
            + with_data_loaders(torch, x_train, y_train, x_valid, y_valid, shuffle))


@pytest.fixture(scope="module")
def our_log():
    return program(symgrad)


def test_the_tutorial_runs_and_learns(our_log):
    shape, first_loss, first_accuracy, last_loss, last_accuracy = our_log[:5]
    assert shape == (BS, 10) and last_loss < first_loss and last_accuracy >= first_accuracy
    assert all(np.isfinite(value) for value in our_log[1:])


def test_the_tutorial_matches_pytorch(our_log):
    torch = pytest.importorskip("torch")
    theirs = program(torch)
    assert our_log[0] == theirs[0]
    np.testing.assert_allclose(our_log[1:], theirs[1:], rtol=2e-4, atol=1e-5)


def test_the_tutorial_with_shuffled_batches_learns():
    log = program(symgrad, shuffle=True)
    assert all(np.isfinite(value) for value in log[1:])
