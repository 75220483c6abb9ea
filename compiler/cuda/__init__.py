"""The CUDA wing: graphs lowered to numba-cuda kernels and host code that launches them."""
