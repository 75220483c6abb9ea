"""PyTorch's "Deep Learning with PyTorch: A 60 Minute Blitz", written as its pages write it,
run on symgrad and on PyTorch (where installed) from the same weights and the same random
draws: "Tensors", "A Gentle Introduction to torch.autograd", "Neural Networks" and "Training a
Classifier" (the CIFAR-10 Net; synthetic 3x32x32 images instead of the download, fewer
batches). The prints are collected into a log; numbers are compared to float tolerance.
"""
import numpy as np
import pytest

from tutorial_checks import Noise, assert_same, assert_same_log, initialise, libraries

pytestmark = pytest.mark.usefixtures("interpreted_eager_backward")


def tensors_page(torch):
    """"Tensors": creation, attributes, indexing, joining, arithmetic, the NumPy bridge."""
    log = []
    data = [[1, 2], [3, 4]]
    x_data = torch.tensor(data)
    np_array = np.array(data)
    x_np = torch.from_numpy(np_array)
    x_ones = torch.ones_like(x_data)
    x_rand = torch.rand_like(x_data, dtype=torch.float)
    log += [x_data.tolist(), x_np.tolist(), x_ones.tolist(), str(x_rand.dtype), x_rand.shape]
    shape = (2, 3,)
    rand_tensor = torch.rand(shape)
    ones_tensor = torch.ones(shape)
    zeros_tensor = torch.zeros(shape)
    log += [rand_tensor.shape, ones_tensor.tolist(), zeros_tensor.tolist()]
    tensor = torch.rand(3, 4)
    log += [f"Shape of tensor: {tensor.shape}", f"Datatype of tensor: {tensor.dtype}",
            f"Device tensor is stored on: {tensor.device}"]
    tensor = torch.ones(4, 4)
    log += [f"First row: {tensor[0]}", f"First column: {tensor[:, 0]}",
            f"Last column: {tensor[..., -1]}"]
    tensor[:, 1] = 0
    log.append(str(tensor))
    t1 = torch.cat([tensor, tensor, tensor], dim=1)
    log.append(str(t1))
    y1 = tensor @ tensor.T
    y2 = tensor.matmul(tensor.T)
    y3 = torch.rand_like(y1)
    torch.matmul(tensor, tensor.T, out=y3)
    z1 = tensor * tensor
    z2 = tensor.mul(tensor)
    z3 = torch.rand_like(tensor)
    torch.mul(tensor, tensor, out=z3)
    log += [y.tolist() for y in (y1, y2, y3, z1, z2, z3)]
    agg = tensor.sum()
    agg_item = agg.item()
    log.append((agg_item, type(agg_item).__name__))
    log.append(f"{tensor} \n")
    tensor.add_(5)
    log.append(str(tensor))
    t = torch.ones(5)
    log.append(f"t: {t}")
    n = t.numpy()
    t.add_(1)
    log += [f"t: {t}", f"n: {n}"]
    n = np.ones(5)
    t = torch.from_numpy(n)
    np.add(n, 1, out=n)
    log += [f"t: {t}", f"n: {n}"]
    return log


def test_the_tensors_page_prints_what_pytorch_prints():
    ours, torch = libraries()
    log = tensors_page(ours)
    assert log[-4:] == ["t: tensor([2., 2., 2., 2., 2.])", "n: [2. 2. 2. 2. 2.]",
                        "t: tensor([2., 2., 2., 2., 2.], dtype=torch.float64)",
                        "n: [2. 2. 2. 2. 2.]"]
    if torch is not None:
        assert [str(entry) for entry in log] == [str(entry) for entry in tensors_page(torch)]


def autograd_page(torch, nn, optim):
    """"A Gentle Introduction to torch.autograd": Q = 3a^3 - b^2 with an external gradient,
    the DAG's requires_grad, and fine-tuning with the feature extractor frozen (a small
    convolutional stand-in for resnet18, its last layer ``fc`` replaced)."""
    a = torch.tensor([2., 3.], requires_grad=True)
    b = torch.tensor([6., 4.], requires_grad=True)
    Q = 3 * a ** 3 - b ** 2
    external_grad = torch.tensor([1., 1.])
    Q.backward(gradient=external_grad)
    log = [(9 * a ** 2 == a.grad).tolist(), (-2 * b == b.grad).tolist()]
    x = torch.rand(5, 5)
    y = torch.rand(5, 5)
    z = torch.rand((5, 5), requires_grad=True)
    a = x + y
    log.append(f"Does `a` require gradients?: {a.requires_grad}")
    b = x + z
    log.append(f"Does `b` require gradients?: {b.requires_grad}")

    class SmallResNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 4, 3, padding=1)
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(4, 1000)

        def forward(self, x):
            return self.fc(torch.flatten(self.avgpool(torch.relu(self.conv1(x))), 1))

    model = initialise(torch, SmallResNet(), 0)
    data = torch.from_numpy(np.random.default_rng(1).random((1, 3, 8, 8), np.float32))
    labels = torch.from_numpy(np.random.default_rng(2).random((1, 1000), np.float32))
    prediction = model(data)
    loss = (prediction - labels).sum()
    loss.backward()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)
    optimizer.step()
    log.append(model.conv1.weight.detach().numpy().copy())
    for param in model.parameters():
        param.requires_grad = False
    model.fc = nn.Linear(4, 10)
    initialise(torch, model.fc, 3)
    optimizer = optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)
    frozen = model.conv1.weight.detach().numpy().copy()
    for _ in range(2):
        optimizer.zero_grad()
        loss = model(data).pow(2).sum()
        loss.backward()
        optimizer.step()
    log += [model.conv1.weight.grad is None, (model.conv1.weight.numpy() == frozen).all(),
            model.fc.weight.detach().numpy().copy(), loss.item()]
    return log


def test_the_autograd_page_freezes_parameters_as_pytorch_does():
    ours, torch = libraries()
    log = autograd_page(ours, ours.nn, ours.optim)
    assert log[0] == [True, True] and log[1] == [True, True]
    assert log[2:4] == ["Does `a` require gradients?: False", "Does `b` require gradients?: True"]
    assert log[5] is True and log[6] == True      # noqa: E712 (numpy bool)
    if torch is not None:
        theirs = autograd_page(torch, torch.nn, torch.optim)
        assert log[:4] == theirs[:4]
        for ours_entry, their_entry in zip(log[4:], theirs[4:]):
            assert_same(ours_entry, their_entry)


def neural_networks_page(torch, nn, F, optim):
    """"Neural Networks": LeNet on a 1x32x32 input, backward with a random gradient, MSELoss,
    walking ``grad_fn``, the update by hand on ``.data`` and then with ``optim.SGD``."""
    class Net(nn.Module):

        def __init__(self):
            super(Net, self).__init__()
            self.conv1 = nn.Conv2d(1, 6, 5)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(16 * 5 * 5, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, input):
            c1 = F.relu(self.conv1(input))
            s2 = F.max_pool2d(c1, (2, 2))
            c3 = F.relu(self.conv2(s2))
            s4 = F.max_pool2d(c3, 2)
            s4 = torch.flatten(s4, 1)
            f5 = F.relu(self.fc1(s4))
            f6 = F.relu(self.fc2(f5))
            output = self.fc3(f6)
            return output

    net = initialise(torch, Net(), 0)
    log = [str(net)]
    params = list(net.parameters())
    log += [len(params), params[0].size()]
    input = torch.randn(1, 1, 32, 32)
    out = net(input)
    log.append(out.detach().numpy().copy())
    net.zero_grad()
    out.backward(torch.randn(1, 10))
    output = net(input)
    target = torch.randn(10)
    target = target.view(1, -1)
    criterion = nn.MSELoss()
    loss = criterion(output, target)
    log.append(loss.item())
    log += [type(loss.grad_fn).__name__,
            type(loss.grad_fn.next_functions[0][0]).__name__,
            type(loss.grad_fn.next_functions[0][0].next_functions[0][0]).__name__]
    net.zero_grad()
    log.append(f"conv1.bias.grad before backward {net.conv1.bias.grad}")
    loss.backward()
    log.append(net.conv1.bias.grad.numpy().copy())
    learning_rate = 0.01
    for f in net.parameters():
        f.data.sub_(f.grad.data * learning_rate)
    optimizer = optim.SGD(net.parameters(), lr=0.01)
    optimizer.zero_grad()
    output = net(input)
    loss = criterion(output, target)
    loss.backward()
    optimizer.step()
    log += [loss.item(), net.fc3.weight.detach().numpy().copy()]
    return log


def test_the_neural_networks_page_matches_pytorch():
    ours, torch = libraries()
    if torch is None:
        pytest.skip("PyTorch is not installed: the page draws its input with torch.randn")
    noise = Noise()
    with noise.recording(torch, "randn"):
        theirs = neural_networks_page(torch, torch.nn, torch.nn.functional, torch.optim)
    with noise.replaying(ours, "randn"):
        log = neural_networks_page(ours, ours.nn, ours.nn.functional, ours.optim)
    assert log[0] == theirs[0] and log[1:3] == theirs[1:3]
    assert log[5:8] == ["MseLossBackward0", "AddmmBackward0", "AccumulateGrad"] == theirs[5:8]
    assert log[8] == theirs[8] == "conv1.bias.grad before backward None"
    for index in (3, 4, 9, 10, 11):
        assert_same(log[index], theirs[index])


def cifar_classifier(torch, nn, F, optim, images, labels, path):
    """"Training a Classifier": the CIFAR-10 Net, CrossEntropyLoss, SGD with momentum, saving
    and loading the state dict, overall and per-class accuracy."""
    trainset = torch.utils.data.TensorDataset(images[:24], labels[:24])
    trainloader = torch.utils.data.DataLoader(trainset, batch_size=4, shuffle=False,
                                              num_workers=0)
    testset = torch.utils.data.TensorDataset(images[24:], labels[24:])
    testloader = torch.utils.data.DataLoader(testset, batch_size=4, shuffle=False,
                                             num_workers=0)
    classes = ('plane', 'car', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck')
    dataiter = iter(trainloader)
    images_, labels_ = next(dataiter)
    log = [' '.join(f'{classes[labels_[j]]:5s}' for j in range(4))]

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 6, 5)
            self.pool = nn.MaxPool2d(2, 2)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(16 * 5 * 5, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x):
            x = self.pool(F.relu(self.conv1(x)))
            x = self.pool(F.relu(self.conv2(x)))
            x = torch.flatten(x, 1)  # flatten all dimensions except batch
            x = F.relu(self.fc1(x))
            x = F.relu(self.fc2(x))
            x = self.fc3(x)
            return x

    net = initialise(torch, Net(), 0)
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    for epoch in range(2):  # loop over the dataset multiple times
        running_loss = 0.0
        for i, data in enumerate(trainloader, 0):
            inputs, labels_ = data
            optimizer.zero_grad()
            outputs = net(inputs)
            loss = criterion(outputs, labels_)
            loss.backward()
            optimizer.step()
            running_loss += loss.item()
            if i % 3 == 2:
                log.append(f'[{epoch + 1}, {i + 1:5d}] loss: {running_loss / 3:.3f}')
                running_loss = 0.0
    torch.save(net.state_dict(), path)
    net = Net()
    net.load_state_dict(torch.load(path, weights_only=True))
    outputs = net(images_)
    _, predicted = torch.max(outputs, 1)
    log.append(' '.join(f'{classes[predicted[j]]:5s}' for j in range(4)))
    correct = 0
    total = 0
    with torch.no_grad():
        for data in testloader:
            images_, labels_ = data
            outputs = net(images_)
            _, predicted = torch.max(outputs.data, 1)
            total += labels_.size(0)
            correct += (predicted == labels_).sum().item()
    log.append(f'Accuracy of the network on the {total} test images: {100 * correct // total} %')
    correct_pred = {classname: 0 for classname in classes}
    total_pred = {classname: 0 for classname in classes}
    with torch.no_grad():
        for data in testloader:
            images_, labels_ = data
            outputs = net(images_)
            _, predictions = torch.max(outputs, 1)
            for label, prediction in zip(labels_, predictions):
                if label == prediction:
                    correct_pred[classes[label]] += 1
                total_pred[classes[label]] += 1
    for classname, correct_count in correct_pred.items():
        if total_pred[classname]:
            accuracy = 100 * float(correct_count) / total_pred[classname]
            log.append(f'Accuracy for class: {classname:5s} is {accuracy:.1f} %')
    log.append(net.fc3.weight.detach().numpy().copy())
    return log


def test_the_cifar_classifier_trains_as_pytorchs(tmp_path):
    ours, torch = libraries()
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((10, 3, 32, 32)).astype(np.float32)
    labels = rng.integers(0, 10, 36)
    images = centres[labels] + rng.standard_normal((36, 3, 32, 32)).astype(np.float32)
    log = cifar_classifier(ours, ours.nn, ours.nn.functional, ours.optim,
                           ours.from_numpy(images), ours.from_numpy(labels), tmp_path / "a.pth")
    losses = [float(line.split("loss: ")[1]) for line in log if "loss:" in line]
    assert len(losses) == 4 and all(np.isfinite(losses))
    if torch is not None:
        theirs = cifar_classifier(torch, torch.nn, torch.nn.functional, torch.optim,
                                  torch.from_numpy(images), torch.from_numpy(labels),
                                  tmp_path / "b.pth")
        assert_same_log(log, theirs)
