"""Floor 2, the PyTorch door: Tensor, its tape and backward, autograd.Function, creation
functions, grad mode and devices. Public paths stay ``symgrad.Tensor``, ``symgrad.autograd``."""
