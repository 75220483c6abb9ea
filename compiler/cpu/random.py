"""Numba CPU lowering of ``random_uniform`` (symgrad/core/ops/random.py): one loop over the
output's elements computing the reference's hash of (seed, counter, flat index) with the same
int64 operations, so compiled numbers equal the reference's bit for bit."""
from symgrad.core.ops.random import MULTIPLIERS, UNIT

MASK = "0xFFFFFFFF"


def _mix(out, variable, multipliers):
    out.line(f"{variable} = (({variable} ^ ({variable} >> 16)) * {multipliers[0]}) & {MASK}")
    out.line(f"{variable} = (({variable} ^ ({variable} >> 15)) * {multipliers[1]}) & {MASK}")
    out.line(f"{variable} = {variable} ^ ({variable} >> 16)")


def lower_random_uniform(lowering, node):
    (key,) = lowering.operand_vars(node)
    params = lowering.attrs(node)["params"]
    shape, dtype = params["shape"], params["dtype"]
    out = lowering.out
    stream, call, h, i = f"s{node}", f"c{node}", f"h{node}", f"i{node}"
    multipliers = [hex(m) for m in MULTIPLIERS]
    out.line(f"{stream} = np.int64({key.name}[0]) & {MASK}")
    _mix(out, stream, multipliers)
    out.line(f"{call} = (np.int64({key.name}[1]) & {MASK}) ^ {stream}")
    _mix(out, call, multipliers)
    if shape == ():
        target = lowering.define(node, "scalar")
        out.line(f"{i} = 0")
    else:
        out.line(f"f{node} = {lowering.allocate(node)}.reshape(-1)")
        out.open(f"for {i} in range({_size(shape)}):")
        target = f"f{node}[{i}]"
    out.line(f"{h} = (np.int64({i}) & {MASK}) ^ {call}")
    _mix(out, h, multipliers)
    out.line(f"{h} = {h} ^ {stream}")
    _mix(out, h, multipliers)
    out.line(f"{target} = np.{dtype}(np.float64({h} >> 8) * {UNIT!r})")
    if shape != ():
        out.close()


def _size(shape):
    size = 1
    for extent in shape:
        size *= extent
    return size


LOWERINGS = {"random_uniform": lower_random_uniform}
