"""autograd.builtins: containers of traced values are plain Python containers in symgrad;
``isinstance`` sees a traced array as the ndarray it stands for."""
import builtins

import numpy

from symgrad import Tracer

tuple = builtins.tuple
list = builtins.list
dict = builtins.dict
type = builtins.type


def isinstance(obj, classinfo):
    if builtins.isinstance(obj, Tracer):
        return builtins.isinstance(numpy.zeros((), obj.dtype) if obj.ndim == 0
                                   else numpy.zeros((0,) * obj.ndim, obj.dtype), classinfo) \
            or builtins.isinstance(obj, classinfo)
    return builtins.isinstance(obj, classinfo)
