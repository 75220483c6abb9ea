"""sg.tree_util (symgrad/tree_util.py over symgrad/core/pytree.py): JAX's pytree API with
namedtuples, None, OrderedDict, defaultdict, dataclasses and registered classes as nodes;
such pytrees as arguments and results of grad, jit and jvp; and the ideas of HIPS autograd's
tests/test_tuple.py, test_dict.py, test_list.py and test_builtins.py."""
import collections
import dataclasses
import operator

import numpy as np
import pytest

import symgrad as sg
from symgrad import tree_util

from conftest import assert_same

REF = "reference"
RNG = np.random.default_rng(0)
Params = collections.namedtuple("Params", "w b")


@dataclasses.dataclass
class Layer:
    weight: object
    bias: object
    name: str = "dense"


def test_flatten_unflatten_structure_and_leaves():
    tree = {"p": Params(1, (2, None)), "o": collections.OrderedDict(z=3, a=4), "l": Layer(5, 6)}
    leaves, treedef = tree_util.tree_flatten(tree)
    assert leaves == [5, 6, "dense", 3, 4, 1, 2]         # dict keys sorted, OrderedDict's kept
    assert tree_util.tree_unflatten(treedef, leaves) == tree
    assert tree_util.tree_leaves(None) == [] and tree_util.tree_structure(None).num_leaves == 0
    assert "Params(w=*, b=(*, None))" in str(treedef)
    assert tree_util.tree_structure(Params(1, 2)) != tree_util.tree_structure((1, 2))
    with pytest.raises(ValueError, match="Too few leaves"):
        tree_util.tree_unflatten(treedef, leaves[:-1])


def test_tree_map_over_several_trees_and_is_leaf():
    a, b = {"x": Params(1, 2), "y": [3]}, {"x": Params(10, 20), "y": [30]}
    assert tree_util.tree_map(operator.add, a, b) == {"x": Params(11, 22), "y": [33]}
    assert tree_util.tree_map(lambda v: v, {"d": None}) == {"d": None}
    with pytest.raises(ValueError, match="tree structures differ"):
        tree_util.tree_map(operator.add, a, {"x": (1, 2), "y": [3]})
    counted = tree_util.tree_map(len, [Params(1, 2), (3,)], is_leaf=lambda n: isinstance(n, tuple))
    assert counted == [2, 1]
    assert tree_util.tree_reduce(operator.add, a) == 6 and tree_util.tree_all([1, (True,)])
    defaults = collections.defaultdict(list, b=1, a=2)
    mapped = tree_util.tree_map(lambda v: v * 2, defaults)
    assert isinstance(mapped, collections.defaultdict) and mapped == {"a": 4, "b": 2}


def test_registered_classes_are_nodes():
    @tree_util.register_pytree_node_class
    class Pair:
        def __init__(self, first, second):
            self.first, self.second = first, second

        def tree_flatten(self):
            return (self.first, self.second), "pair"

        @classmethod
        def tree_unflatten(cls, aux, children):
            assert aux == "pair"
            return cls(*children)

    @dataclasses.dataclass
    class Scaled:
        value: object
        scale: float
    tree_util.register_dataclass(Scaled, data_fields=["value"], meta_fields=["scale"])
    gradient = sg.grad(lambda p, s: np.sum(p.first * p.second) * s.scale + np.sum(s.value),
                       argnums=(0, 1), backend=REF)(Pair(np.ones(2), np.arange(2.0)),
                                                    Scaled(np.ones(3), 3.0))
    assert_same(gradient[0].first, 3 * np.arange(2.0)) and gradient[1].scale == 3.0
    assert_same(gradient[1].value, np.ones(3))


def test_namedtuple_dataclass_and_ordered_dict_arguments_to_grad(backend):
    def loss(params, layer, extra):
        h = np.tanh(layer.weight @ params.w + params.b)
        return np.sum(h * layer.bias) + np.sum(extra["z"] * extra["a"])
    params = Params(RNG.standard_normal(3), RNG.standard_normal(2))
    layer = Layer(RNG.standard_normal((2, 3)), RNG.standard_normal(2))
    extra = collections.OrderedDict(z=np.ones(2), a=np.arange(2.0))
    grads = sg.grad(loss, argnums=(0, 1, 2), backend=backend)(params, layer, extra)
    assert isinstance(grads[0], Params) and isinstance(grads[1], Layer)
    assert grads[1].name == "dense" and list(grads[2]) == ["z", "a"]
    h = np.tanh(layer.weight @ params.w + params.b)
    assert_same(grads[0].b, layer.bias * (1 - h ** 2))
    assert_same(grads[2]["z"], np.arange(2.0))
    out = sg.jit(lambda p: Params(p.w * 2, None), backend=backend)(params)
    assert isinstance(out, Params) and out.b is None


def test_pytrees_through_jvp_and_jacobian():
    params = Params(np.ones(2), np.array(0.5))
    _, tangent = sg.jvp(lambda p: p.w * p.b, (params,), (Params(np.ones(2), np.array(1.0)),),
                        backend=REF)
    assert_same(tangent, np.array([1.5, 1.5]))
    jac = sg.jacobian(lambda p: p.w * p.b, backend=REF)(params)
    assert isinstance(jac, Params) and jac.w.shape == (2, 2) and jac.b.shape == (2,)


# -- HIPS autograd's container tests, as ideas ----------------------------------------------
@pytest.mark.parametrize("container", [tuple, list, "dict"])
def test_gradient_of_indexed_containers(container):
    parts = [RNG.standard_normal((2, 3)), RNG.standard_normal((3, 2)), RNG.standard_normal((2, 1))]
    keys = [0, 1, 2]
    if container == "dict":
        keys = ["item_1", "item_2", "item_X"]
        value = dict(zip(keys, parts))
    else:
        value = container(parts)

    def fun(c):
        return np.sum(c[keys[0]]) + np.sum(c[keys[1]]) + np.sum(c[keys[1]])
    result = sg.grad(fun, backend=REF)(value)
    assert_same(result[keys[0]], np.ones((2, 3)))
    assert_same(result[keys[1]], 2 * np.ones((3, 2)))
    assert_same(result[keys[2]], np.zeros((2, 1)))

    def d_fun(c):
        g = sg.grad(lambda c: np.sum(np.sin(c[keys[0]])) + np.sum(np.cos(c[keys[1]])),
                    backend=REF)(c)
        return np.sum(g[keys[0]]) + np.sum(np.sin(g[keys[0]])) + np.sum(np.sin(g[keys[1]]))
    sg.check_grad(d_fun, value, backend=REF)


def test_dict_iteration_items_and_get():
    value = {"item_1": RNG.standard_normal((2, 3)), "item_2": RNG.standard_normal(3)}

    def fun(d):
        total = 0.0
        for i, (k, v) in enumerate(sorted(d.items(), key=operator.itemgetter(0))):
            total = total + np.sum(np.sin(v)) * (i + 1.0)
        for v in d.values():
            total = total + np.sum(np.cos(v))
        return total
    sg.check_grad(fun, value, backend=REF)
    get = lambda d, x: d.get("item_1", x) ** 2   # noqa: E731
    for d in ({"item_1": 3.0}, {"item_2": 4.0}, {}):
        sg.check_grad(get, d, 2.0, backend=REF)


def test_nested_higher_order_through_tuples():
    def outer(x):
        return np.sum(np.sin(np.array(sg.grad(lambda y: y[0] * y[1], backend=REF)((x, x)))))
    sg.check_grad(outer, 5.0, backend=REF)
    sg.check_grad(sg.grad(outer, backend=REF), 10.0, backend=REF)
    sg.check_grad(sg.grad(sg.grad(outer, backend=REF), backend=REF), 10.0, order=1, backend=REF)
    grads = sg.grad(lambda t: t[0], backend=REF)((1.0, 2.0, 3.0))
    assert isinstance(grads, tuple) and [float(g) for g in grads] == [1.0, 0.0, 0.0]


def test_builtins_isinstance_and_constant_outputs():
    def checker(example, kind, truth):
        assert isinstance(example, kind) == truth
        return 1.0                       # independent of the input: a zero gradient
    for kind, positives, negatives in [(list, [[]], [()]), ((tuple, list), [[], ()], []),
                                       (dict, [{}], [[]])]:
        for example in positives:
            assert sg.grad(checker, backend=REF)(example, kind, True) == example
        for example in negatives:
            assert sg.grad(checker, backend=REF)(example, kind, False) == example
    assert_same(sg.grad(lambda x: 2.0, backend=REF)(np.ones(2)), np.zeros(2))
