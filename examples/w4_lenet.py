"""W4: LeNet on a 1x1x32x32 input (seed 001), written as the PyTorch program with
``import symgrad as torch``: print the network, MSELoss against a random target, walk
``loss.grad_fn.next_functions``, ``net.zero_grad()``, ``conv1.bias.grad`` before and after
``loss.backward()``, one ``optim.SGD(lr=0.01)`` step; then the same network trained at batch
64 on random data by a compiled ``sg.train`` loop.

Run: ``python examples/w4_lenet.py``.
"""
import time

import numpy as np

import symgrad as torch
import symgrad as sg
from symgrad import nn, optim
from symgrad.nn import functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        # 1 input image channel, 6 output channels, 3x3 square convolution kernel
        self.conv1 = nn.Conv2d(1, 6, 3)
        self.conv2 = nn.Conv2d(6, 16, 3)
        # an affine operation: y = Wx + b (6x6 is the spatial size after two conv+pool)
        self.fc1 = nn.Linear(16 * 6 * 6, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        # max pooling over a (2, 2) window; a square window can be given as one number
        x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.view(-1, self.num_flat_features(x))
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x

    def num_flat_features(self, x):
        size = x.size()[1:]  # all dimensions except the batch dimension
        num_features = 1
        for s in size:
            num_features *= s
        return num_features


def grad_fn_chain(loss, depth=3):
    """Names along ``next_functions[0][0]`` from ``loss.grad_fn``, ``depth`` levels down."""
    names, node = [], loss.grad_fn
    for _ in range(depth):
        if node is None:
            break
        names.append(node.name())
        node = node.next_functions[0][0] if node.next_functions else None
    return names


def seed_program(seed=0):
    """Seed 001 step by step; returns (net, loss, conv1.bias.grad after backward)."""
    torch.manual_seed(seed)
    net = Net()
    print(net)

    input = torch.randn(1, 1, 32, 32)
    output = net(input)
    target = torch.randn(10)       # a dummy target, for example
    target = target.view(1, -1)    # make it the same shape as output
    criterion = nn.MSELoss()
    loss = criterion(output, target)
    print("loss", loss)

    print(loss.grad_fn)                                               # MSELoss
    print(loss.grad_fn.next_functions[0][0])                          # Linear
    print(loss.grad_fn.next_functions[0][0].next_functions[0][0])     # its bias
    print("three levels:", " -> ".join(grad_fn_chain(loss)))

    net.zero_grad()                # zero the gradient buffers of all parameters
    print("conv1.bias.grad before backward")
    print(net.conv1.bias.grad)
    loss.backward()
    print("conv1.bias.grad after backward")
    print(net.conv1.bias.grad)
    bias_grad = net.conv1.bias.grad

    optimizer = optim.SGD(net.parameters(), lr=0.01)
    optimizer.zero_grad()          # zero the gradient buffers
    output = net(input)
    loss = criterion(output, target)
    loss.backward()
    optimizer.step()               # does the update
    print("loss after one SGD step", criterion(net(input), target).item())
    return net, loss, bias_grad


def make_batches(batch=64, count=4, seed=0):
    """Random images and targets: ``count`` batches of ``batch`` rows."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch * count, 1, 32, 32)).astype(np.float32)
    y = rng.standard_normal((batch * count, 10)).astype(np.float32)
    return x, y


def training_step(net, lr=0.01):
    """Seed 001's step, PyTorch style: MSELoss, ``optim.SGD(lr)``, zero_grad / backward /
    step; returns ``step(x, y) -> loss`` for ``sg.train``."""
    criterion = nn.MSELoss()
    optimizer = optim.SGD(net.parameters(), lr=lr)

    def step(x, y):
        optimizer.zero_grad()
        loss = criterion(net(x), y)
        loss.backward()
        optimizer.step()
        return loss
    return step


def compiled_training(net=None, batch=64, epochs=3, count=4, lr=0.01, progress=False, seed=0):
    """The same network trained by ``sg.train``: the PyTorch-style step below is traced once
    and runs as one compiled loop over every minibatch. Returns (net, loss history)."""
    if net is None:
        torch.manual_seed(seed)
        net = Net()
    step = training_step(net, lr)
    x, y = make_batches(batch, count, seed)
    history = sg.train(step, data=(x, y), epochs=epochs, batch_size=batch, progress=progress)
    return net, history


def main():
    seed_program()
    start = time.perf_counter()
    _, history = compiled_training(epochs=25, progress=True)
    seconds = time.perf_counter() - start
    print(f"\nsg.train, batch 64, {len(history)} steps in {seconds:.2f} s (compile included):")
    for step in range(0, len(history), 10):
        print(f"  step {step:3d}  loss {history[step]:.5f}")
    print(f"  step {len(history) - 1:3d}  loss {history[-1]:.5f}")


if __name__ == "__main__":
    main()
