"""Well-known vision programs, written as their authors wrote them, run on symgrad and on
PyTorch (where installed) from the same weights, random draws and dropout masks: the VAE of
pytorch/examples (``vae/main.py``: reparameterisation with ``torch.randn_like``,
``F.binary_cross_entropy(reduction='sum')``, Adam), the DCGAN of pytorch/examples
(``dcgan/main.py``: ``ConvTranspose2d``/``BatchNorm2d``/``LeakyReLU``, ``weights_init`` through
``apply``, ``BCELoss``, two Adam optimizers, ``fake.detach()``) and the "Spatial Transformer
Networks" tutorial (``F.affine_grid`` + ``F.grid_sample``, ``Dropout2d``, ``F.nll_loss``).
Synthetic data, small sizes (the programs' own command-line sizes where they have them).
"""
import numpy as np
import pytest

from tutorial_checks import (DropoutMasks, Noise, assert_same, assert_same_log, initialise,
                             libraries)

pytestmark = pytest.mark.usefixtures("interpreted_eager_backward")


def _images(seed, count, channels, size, classes=10):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, count)
    centres = rng.random((classes, channels, size, size)).astype(np.float32)
    noise = rng.random((count, channels, size, size)).astype(np.float32)
    return (0.7 * centres[labels] + 0.3 * noise).astype(np.float32), labels


def _loaders(torch, images, labels, train, batch_size):
    """The stand-ins for the programs' MNIST loaders: the first ``train`` samples, the rest."""
    data = torch.utils.data.TensorDataset(torch.from_numpy(images), torch.from_numpy(labels))
    return [torch.utils.data.DataLoader(torch.utils.data.Subset(data, part),
                                        batch_size=batch_size, shuffle=False)
            for part in (range(train), range(train, len(images)))]


def vae(torch, images, labels, epochs):
    nn, F, optim = torch.nn, torch.nn.functional, torch.optim
    device = torch.device("cpu")
    train_loader, test_loader = _loaders(torch, images, labels, 16, 8)

    class VAE(nn.Module):
        def __init__(self):
            super(VAE, self).__init__()

            self.fc1 = nn.Linear(784, 400)
            self.fc21 = nn.Linear(400, 20)
            self.fc22 = nn.Linear(400, 20)
            self.fc3 = nn.Linear(20, 400)
            self.fc4 = nn.Linear(400, 784)

        def encode(self, x):
            h1 = F.relu(self.fc1(x))
            return self.fc21(h1), self.fc22(h1)

        def reparameterize(self, mu, logvar):
            std = torch.exp(0.5*logvar)
            eps = torch.randn_like(std)
            return mu + eps*std

        def decode(self, z):
            h3 = F.relu(self.fc3(z))
            return torch.sigmoid(self.fc4(h3))

        def forward(self, x):
            mu, logvar = self.encode(x.view(-1, 784))
            z = self.reparameterize(mu, logvar)
            return self.decode(z), mu, logvar

    model = initialise(torch, VAE().to(device), 0)
    optimizer = optim.Adam(model.parameters(), lr=1e-3)

    # Reconstruction + KL divergence losses summed over all elements and batch
    def loss_function(recon_x, x, mu, logvar):
        BCE = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction='sum')
        KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        return BCE + KLD

    log = []
    for epoch in range(1, epochs + 1):
        model.train()
        train_loss = 0
        for batch_idx, (data, _) in enumerate(train_loader):
            data = data.to(device)
            optimizer.zero_grad()
            recon_batch, mu, logvar = model(data)
            loss = loss_function(recon_batch, data, mu, logvar)
            loss.backward()
            train_loss += loss.item()
            optimizer.step()
        log.append('====> Epoch: {} Average loss: {:.4f}'.format(
            epoch, train_loss / len(train_loader.dataset)))
        model.eval()
        test_loss = 0
        with torch.no_grad():
            for i, (data, _) in enumerate(test_loader):
                data = data.to(device)
                recon_batch, mu, logvar = model(data)
                test_loss += loss_function(recon_batch, data, mu, logvar).item()
                if i == 0:
                    n = min(data.size(0), 8)
                    comparison = torch.cat([data[:n], recon_batch.view(8, 1, 28, 28)[:n]])
        log.append(test_loss / len(test_loader.dataset))
        with torch.no_grad():
            sample = torch.randn(64, 20).to(device)
            sample = model.decode(sample).cpu()
    return log + [comparison.numpy().copy(), sample.view(64, 1, 28, 28).numpy().copy()]


def test_the_vae_example_matches_pytorch():
    ours, torch = libraries()
    if torch is None:
        pytest.skip("PyTorch is not installed: the example's noise is PyTorch's")
    images, labels = _images(0, 24, 1, 28)
    noise = Noise()
    with noise.recording(torch, "randn_like", "randn"):
        theirs = vae(torch, images, labels, 2)
    with noise.replaying(ours, "randn_like", "randn"):
        log = vae(ours, images, labels, 2)
    assert_same_log(log, theirs, rtol=2e-4, atol=2e-4)


def dcgan(torch, images, niter, nz=8, ngf=4, ndf=4, nc=3):
    nn, optim = torch.nn, torch.optim
    device = torch.device("cpu")
    ngpu = 1
    dataset = torch.utils.data.TensorDataset(torch.from_numpy(images * 2 - 1))
    dataloader = torch.utils.data.DataLoader(dataset, batch_size=2, shuffle=False)

    # custom weights initialization called on netG and netD
    def weights_init(m):
        classname = m.__class__.__name__
        if classname.find('Conv') != -1:
            torch.nn.init.normal_(m.weight, 0.0, 0.02)
        elif classname.find('BatchNorm') != -1:
            torch.nn.init.normal_(m.weight, 1.0, 0.02)
            torch.nn.init.zeros_(m.bias)

    class Generator(nn.Module):
        def __init__(self, ngpu):
            super(Generator, self).__init__()
            self.ngpu = ngpu
            self.main = nn.Sequential(
                # input is Z, going into a convolution
                nn.ConvTranspose2d(     nz, ngf * 8, 4, 1, 0, bias=False),  # noqa: E201
                nn.BatchNorm2d(ngf * 8),
                nn.ReLU(True),
                # state size. (ngf*8) x 4 x 4
                nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False),
                nn.BatchNorm2d(ngf * 4),
                nn.ReLU(True),
                # state size. (ngf*4) x 8 x 8
                nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(ngf * 2),
                nn.ReLU(True),
                # state size. (ngf*2) x 16 x 16
                nn.ConvTranspose2d(ngf * 2,     ngf, 4, 2, 1, bias=False),
                nn.BatchNorm2d(ngf),
                nn.ReLU(True),
                # state size. (ngf) x 32 x 32
                nn.ConvTranspose2d(    ngf,      nc, 4, 2, 1, bias=False),  # noqa: E201
                nn.Tanh()
                # state size. (nc) x 64 x 64
            )

        def forward(self, input):
            if input.is_cuda and self.ngpu > 1:
                output = nn.parallel.data_parallel(self.main, input, range(self.ngpu))
            else:
                output = self.main(input)
            return output

    netG = Generator(ngpu).to(device)
    netG.apply(weights_init)
    log = [str(netG)]

    class Discriminator(nn.Module):
        def __init__(self, ngpu):
            super(Discriminator, self).__init__()
            self.ngpu = ngpu
            self.main = nn.Sequential(
                # input is (nc) x 64 x 64
                nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),
                nn.LeakyReLU(0.2, inplace=True),
                # state size. (ndf) x 32 x 32
                nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(ndf * 2),
                nn.LeakyReLU(0.2, inplace=True),
                # state size. (ndf*2) x 16 x 16
                nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False),
                nn.BatchNorm2d(ndf * 4),
                nn.LeakyReLU(0.2, inplace=True),
                # state size. (ndf*4) x 8 x 8
                nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False),
                nn.BatchNorm2d(ndf * 8),
                nn.LeakyReLU(0.2, inplace=True),
                # state size. (ndf*8) x 4 x 4
                nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False),
                nn.Sigmoid()
            )

        def forward(self, input):
            if input.is_cuda and self.ngpu > 1:
                output = nn.parallel.data_parallel(self.main, input, range(self.ngpu))
            else:
                output = self.main(input)

            return output.view(-1, 1).squeeze(1)

    netD = Discriminator(ngpu).to(device)
    netD.apply(weights_init)
    log.append(str(netD))
    initialise(torch, netG, 1, scale=2.0)     # the same start for both libraries
    initialise(torch, netD, 2, scale=2.0)

    criterion = nn.BCELoss()
    fixed_noise = torch.randn(2, nz, 1, 1, device=device)
    real_label = 1
    fake_label = 0
    # setup optimizer
    optimizerD = optim.Adam(netD.parameters(), lr=0.0002, betas=(0.5, 0.999))
    optimizerG = optim.Adam(netG.parameters(), lr=0.0002, betas=(0.5, 0.999))
    for epoch in range(niter):
        for i, data in enumerate(dataloader, 0):
            ############################
            # (1) Update D network: maximize log(D(x)) + log(1 - D(G(z)))
            ###########################
            # train with real
            netD.zero_grad()
            real_cpu = data[0].to(device)
            batch_size = real_cpu.size(0)
            label = torch.full((batch_size,), real_label, dtype=real_cpu.dtype, device=device)
            output = netD(real_cpu)
            errD_real = criterion(output, label)
            errD_real.backward()
            D_x = output.mean().item()
            # train with fake
            noise = torch.randn(batch_size, nz, 1, 1, device=device)
            fake = netG(noise)
            label.fill_(fake_label)
            output = netD(fake.detach())
            errD_fake = criterion(output, label)
            errD_fake.backward()
            D_G_z1 = output.mean().item()
            errD = errD_real + errD_fake
            optimizerD.step()
            ############################
            # (2) Update G network: maximize log(D(G(z)))
            ###########################
            netG.zero_grad()
            label.fill_(real_label)  # fake labels are real for generator cost
            output = netD(fake)
            errG = criterion(output, label)
            errG.backward()
            D_G_z2 = output.mean().item()
            optimizerG.step()
            log.append([errD.item(), errG.item(), D_x, D_G_z1, D_G_z2])
    fake = netG(fixed_noise)
    return log + [fake.detach().numpy().copy(), netD.main[3].running_var.numpy().copy()]


def test_the_dcgan_example_matches_pytorch():
    ours, torch = libraries()
    if torch is None:
        pytest.skip("PyTorch is not installed: the example's noise is PyTorch's")
    images, _ = _images(1, 4, 3, 64)
    noise = Noise()
    with noise.recording(torch, "randn"):
        theirs = dcgan(torch, images, 2)
    with noise.replaying(ours, "randn"):
        log = dcgan(ours, images, 2)
    assert log[:2] == theirs[:2]
    for ours_entry, their_entry in zip(log[2:], theirs[2:]):
        assert_same(ours_entry, their_entry, rtol=2e-4, atol=2e-5)


def spatial_transformer(torch, images, labels, epochs):
    nn, F, optim = torch.nn, torch.nn.functional, torch.optim
    device = torch.device("cpu")
    train_loader, test_loader = _loaders(torch, images, labels, 8, 4)

    class Net(nn.Module):
        def __init__(self):
            super(Net, self).__init__()
            self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
            self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
            self.conv2_drop = nn.Dropout2d()
            self.fc1 = nn.Linear(320, 50)
            self.fc2 = nn.Linear(50, 10)

            # Spatial transformer localization-network
            self.localization = nn.Sequential(
                nn.Conv2d(1, 8, kernel_size=7),
                nn.MaxPool2d(2, stride=2),
                nn.ReLU(True),
                nn.Conv2d(8, 10, kernel_size=5),
                nn.MaxPool2d(2, stride=2),
                nn.ReLU(True)
            )

            # Regressor for the 3 * 2 affine matrix
            self.fc_loc = nn.Sequential(
                nn.Linear(10 * 3 * 3, 32),
                nn.ReLU(True),
                nn.Linear(32, 3 * 2)
            )

            # Initialize the weights/bias with identity transformation
            self.fc_loc[2].weight.data.zero_()
            self.fc_loc[2].bias.data.copy_(torch.tensor([1, 0, 0, 0, 1, 0], dtype=torch.float))

        # Spatial transformer network forward function
        def stn(self, x):
            xs = self.localization(x)
            xs = xs.view(-1, 10 * 3 * 3)
            theta = self.fc_loc(xs)
            theta = theta.view(-1, 2, 3)

            grid = F.affine_grid(theta, x.size())
            x = F.grid_sample(x, grid)

            return x

        def forward(self, x):
            # transform the input
            x = self.stn(x)

            # Perform the usual forward pass
            x = F.relu(F.max_pool2d(self.conv1(x), 2))
            x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
            x = x.view(-1, 320)
            x = F.relu(self.fc1(x))
            x = F.dropout(x, training=self.training)
            x = self.fc2(x)
            return F.log_softmax(x, dim=1)

    model = Net().to(device)
    initialise(torch, model, 3)
    with torch.no_grad():       # a transform that moves the images (the page's starts at identity)
        model.fc_loc[2].bias.copy_(torch.tensor([0.9, 0.2, 0.1, -0.1, 1.1, 0.05]))
    optimizer = optim.SGD(model.parameters(), lr=0.01)
    log = []

    def train(epoch):
        model.train()
        for batch_idx, (data, target) in enumerate(train_loader):
            data, target = data.to(device), target.to(device)

            optimizer.zero_grad()
            output = model(data)
            loss = F.nll_loss(output, target)
            loss.backward()
            optimizer.step()
            log.append(loss.item())

    def test():
        with torch.no_grad():
            model.eval()
            test_loss = 0
            correct = 0
            for data, target in test_loader:
                data, target = data.to(device), target.to(device)
                output = model(data)

                # sum up batch loss
                test_loss += F.nll_loss(output, target, size_average=False).item()
                # get the index of the max log-probability
                pred = output.max(1, keepdim=True)[1]
                correct += pred.eq(target.view_as(pred)).sum().item()

            test_loss /= len(test_loader.dataset)
            log.append('\nTest set: Average loss: {:.4f}, Accuracy: {}/{} ({:.0f}%)\n'
                       .format(test_loss, correct, len(test_loader.dataset),
                               100. * correct / len(test_loader.dataset)))

    for epoch in range(1, epochs + 1):
        train(epoch)
        test()
    with torch.no_grad():
        transformed = model.stn(next(iter(test_loader))[0]).cpu()
    return log + [transformed.numpy().copy(), model.fc_loc[2].weight.detach().numpy().copy()]


def test_the_spatial_transformer_tutorial_matches_pytorch():
    ours, torch = libraries()
    images, labels = _images(2, 12, 1, 28)
    if torch is None:
        log = spatial_transformer(ours, images, labels, 1)
        assert all(np.isfinite(log[:2]))
        return
    masks = DropoutMasks()
    with masks.recording(torch):
        theirs = spatial_transformer(torch, images, labels, 2)
    with masks.replaying(ours):
        log = spatial_transformer(ours, images, labels, 2)
    assert_same_log(log, theirs, rtol=2e-4, atol=2e-5)
