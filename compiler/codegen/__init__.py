"""Code generators. Each backend owns a lowering table (op name -> code); op families with
lowerings of their own module register them here."""
from compiler.codegen import numba_cpu, numba_cpu_conv, numba_cpu_pool

numba_cpu.LOWERINGS.update(numba_cpu_conv.LOWERINGS)
numba_cpu.LOWERINGS.update(numba_cpu_pool.LOWERINGS)
