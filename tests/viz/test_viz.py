"""symgrad.viz: DOT text, SVG/PNG/GraphML/JSON files (the built-in SVG writer lays nodes out
with symgrad/viz/layout.py), statistics, and the text listing.

Read as examples: ``sg.viz.to_dot(graph)``, ``sg.viz.export(graph_or_fn, path, *args)``,
``sg.viz.summary(graph)``.
"""
import json
import os
import xml.etree.ElementTree as ElementTree

import networkx as nx
import numpy as np
import pytest

import symgrad as sg
from symgrad.viz import files as viz_files

pydot = pytest.importorskip("pydot")
HAS_DOT = viz_files.graphviz_program() is not None
needs_graphviz = pytest.mark.skipif(not HAS_DOT, reason="the Graphviz dot program is not installed")
needs_matplotlib = pytest.mark.skipif(not viz_files.has_matplotlib(),
                                      reason="matplotlib is not installed")
SVG = "{http://www.w3.org/2000/svg}"
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")   # pydot's pyparsing calls


def small(x, y):
    """5 nodes (x, y, exp, mul, sub) and 5 edges; ``sub`` is the only non-commutative op."""
    return np.exp(x) - y * x


def loss(w, x, y):
    h = np.maximum(x @ w, 0)
    return np.sum((h - y) ** 2)


@pytest.fixture
def small_graph():
    return sg.trace(small, np.ones(3), np.ones(3))


@pytest.fixture
def loss_args():
    rng = np.random.default_rng(0)
    return [rng.standard_normal(s) for s in ((3, 2), (4, 3), (4, 2))]


@pytest.fixture
def grad_graph(loss_args):
    return sg.grad(loss).trace(*loss_args)


def parse_dot(text):
    (parsed,) = pydot.graph_from_dot_data(text)
    return nx.nx_pydot.from_pydot(parsed)


def graph_nodes(parsed):
    return {n for n in parsed.nodes if not n.startswith("legend_")}


def node_attributes(text):
    """Graph node -> the attributes of its DOT statement, parsed by pydot."""
    (parsed,) = pydot.graph_from_dot_data(text)
    found = {}
    for graph in [parsed, *all_subgraphs(parsed)]:
        for statement in graph.get_nodes():
            name = statement.get_name()
            if name.startswith("n") and name[1:].isdigit():
                found[int(name[1:])] = {k: v.strip('"') for k, v in
                                        statement.get_attributes().items()}
    return found


def all_subgraphs(graph):
    for sub in graph.get_subgraphs():
        yield sub
        yield from all_subgraphs(sub)


# -- DOT ------------------------------------------------------------------------------------
def test_dot_of_a_known_graph_has_its_nodes_and_edges(small_graph):
    parsed = parse_dot(sg.viz.to_dot(small_graph, legend=False))
    assert graph_nodes(parsed) == {f"n{n}" for n in range(5)}
    assert parsed.number_of_edges() == 5


def test_dot_edges_show_operand_positions_only_where_order_matters(small_graph):
    text = sg.viz.to_dot(small_graph, legend=False)
    (sub,) = [n for n in small_graph.nodes() if small_graph.op(n) == "sub"]
    (mul,) = [n for n in small_graph.nodes() if small_graph.op(n) == "mul"]
    parsed = parse_dot(text)
    labels = {(u, v): d.get("label", "").strip('"') for u, v, d in parsed.edges(data=True)}
    assert sorted(labels[(f"n{o}", f"n{sub}")] for o in small_graph.operands(sub)) == ["0", "1"]
    assert all(labels[(f"n{o}", f"n{mul}")] == "" for o in small_graph.operands(mul))


# inputs, constants and grad's copy of a differentiated argument (not drawn)
ARGUMENT_NODES = ("input", "constant", "identity")


def test_every_node_of_the_gradient_graph_appears_but_argument_copies(grad_graph):
    parsed = parse_dot(sg.viz.to_dot(grad_graph))
    copies = {n for n in grad_graph.nodes() if grad_graph.op(n) == "identity"}
    assert copies                       # grad's copy of the differentiated argument w
    assert graph_nodes(parsed) == {f"n{n}" for n in grad_graph.nodes() if n not in copies}
    real_edges = [e for e in parsed.edges if not e[0].startswith("legend_")]
    assert len(real_edges) == grad_graph.nx.number_of_edges() - len(copies)


def test_gradient_nodes_are_marked_and_name_their_forward_node(grad_graph):
    text = sg.viz.to_dot(grad_graph)
    parsed = node_attributes(text)
    gradient = [n for n in grad_graph.nodes() if "grad_of" in grad_graph[n]]
    forward = [n for n in grad_graph.nodes() if grad_graph.op(n) not in ARGUMENT_NODES
               and "grad_of" not in grad_graph[n]]
    assert gradient and forward
    for node in gradient:
        attrs = parsed[node]
        origin = grad_graph[node]["grad_of"]
        assert attrs["class"] == "gradient"
        assert attrs["fillcolor"] == sg.viz.style.STYLES["gradient"].fill
        assert f"gradient of %{origin}" in attrs["tooltip"]
        assert attrs["URL"] == f"#n{origin}"
    for node in forward:
        attrs = parsed[node]
        assert attrs["class"] == "forward"
        assert "test_viz.py:" in attrs["tooltip"]          # the user's file:line
    assert "legend_gradient" in text and "legend_forward" in text


def test_inputs_parameters_constants_and_outputs_have_their_own_shapes(grad_graph):
    parsed = node_attributes(sg.viz.to_dot(grad_graph))
    assert set(parsed) == set(sg.viz.style.without_argument_copies(grad_graph).nodes())
    shapes = {attrs["class"]: attrs["shape"] for attrs in parsed.values()}
    assert parsed[grad_graph.inputs[0]]["class"] == "parameter"      # w, differentiated
    assert parsed[grad_graph.inputs[1]]["class"] == "input"
    assert len({shapes["input"], shapes["parameter"], shapes["constant"], shapes["forward"]}) == 4
    assert parsed[grad_graph.outputs[0]]["peripheries"] == "2"


def test_module_attributes_become_labelled_clusters(grad_graph):
    forward = [n for n in grad_graph.topological_order()
               if grad_graph.op(n) not in ARGUMENT_NODES and "grad_of" not in grad_graph[n]]
    grad_graph[forward[0]]["module"] = "fc1"
    for node in forward[1:3]:
        grad_graph[node]["module"] = "encoder.fc2"
    (parsed,) = pydot.graph_from_dot_data(sg.viz.to_dot(grad_graph))
    clusters = {sub.get_name().strip('"'): sub for sub in all_subgraphs(parsed)}
    assert clusters["cluster_module_fc1"].get_label().strip('"') == "fc1"
    nested = [sub.get_name().strip('"') for sub in clusters["cluster_module_encoder"].get_subgraphs()]
    assert nested == ["cluster_module_encoder_fc2"]
    members = {n.get_name() for n in clusters["cluster_module_encoder_fc2"].get_nodes()}
    assert members == {f"n{n}" for n in forward[1:3]}
    assert "in encoder.fc2" in grad_graph.listing(show_sources=True)


def test_a_compiled_graph_shows_its_fused_loop_nests(loss_args):
    compiled = sg.grad(loss).compiled(*loss_args)
    text = sg.viz.to_dot(compiled)
    assert 'cluster_fusion' in text and "fused loop nest" in text
    parsed = parse_dot(text)
    assert graph_nodes(parsed) == {f"n{n}" for n in compiled.optimized.nodes()}
    assert "fused loop nest" not in sg.viz.to_dot(compiled, fusion=False)


def test_text_listing_names_the_forward_node_of_each_gradient_node(grad_graph):
    listing = grad_graph.listing(show_sources=True)
    for node in grad_graph.nodes():
        if "grad_of" in grad_graph[node]:
            line = next(line for line in listing.splitlines() if f"%{node}:" in line.split("=")[0])
            assert f"grad of %{grad_graph[node]['grad_of']}" in line
    assert "grad of" not in str(grad_graph)          # print(graph): equations only


# -- files ----------------------------------------------------------------------------------
def test_export_dot_text_and_listing(tmp_path, grad_graph):
    result = sg.viz.export(grad_graph, tmp_path / "g.dot")
    assert result.format == "dot" and os.path.exists(result.path)
    drawn = sg.viz.style.without_argument_copies(grad_graph)
    assert parse_dot((tmp_path / "g.dot").read_text()).number_of_nodes() >= len(drawn)
    sg.viz.export(grad_graph, tmp_path / "g.txt")
    assert (tmp_path / "g.txt").read_text().startswith("{ lambda w:f64[3,2]")


def test_builtin_svg_is_valid_and_complete(tmp_path, grad_graph):
    result = sg.viz.export(grad_graph, tmp_path / "g.svg", renderer="builtin")
    assert result.renderer == "built-in SVG writer"
    root = ElementTree.parse(result.path).getroot()
    assert root.tag == f"{SVG}svg"
    nodes = [g for g in root.iter(f"{SVG}g") if "node" in g.get("class", "").split()]
    drawn = sg.viz.style.without_argument_copies(grad_graph)
    assert {g.get("id") for g in nodes} == {f"n{n}" for n in drawn.nodes()}
    gradient = [g for g in nodes if "gradient" in g.get("class")]
    assert len(gradient) == sum("grad_of" in grad_graph[n] for n in grad_graph.nodes())
    assert all(g.find(f"{SVG}a") is not None for g in gradient)      # link to the forward node


@needs_graphviz
def test_graphviz_svg_and_png(tmp_path, grad_graph):
    svg = sg.viz.export(grad_graph, tmp_path / "g.svg")
    assert svg.renderer == "graphviz dot"
    root = ElementTree.parse(svg.path).getroot()
    ids = {g.get("id") for g in root.iter(f"{SVG}g")}
    drawn = sg.viz.style.without_argument_copies(grad_graph)
    assert {f"n{n}" for n in drawn.nodes()} <= ids
    png = sg.viz.export(grad_graph, tmp_path / "g.png")
    assert_png(png.path)


@needs_matplotlib
def test_matplotlib_png_without_graphviz(tmp_path, monkeypatch, loss_args):
    monkeypatch.setattr(viz_files, "graphviz_program", lambda: None)
    compiled = sg.grad(loss).compiled(*loss_args)
    compiled.optimized[compiled.optimized.outputs[0]]["module"] = "head"
    result = sg.viz.export(compiled, tmp_path / "g.png")
    assert result.renderer == "matplotlib"
    assert_png(result.path)
    assert sg.viz.export(compiled, tmp_path / "g.svg").renderer == "built-in SVG writer"


def assert_png(path):
    from matplotlib.image import imread
    with open(path, "rb") as file:
        assert file.read(8) == b"\x89PNG\r\n\x1a\n"
    image = imread(path)
    assert image.ndim == 3 and image.shape[0] > 50 and image.shape[1] > 50


def test_graphml_and_json_round_trip(tmp_path, grad_graph):
    sg.viz.export(grad_graph, tmp_path / "g.graphml")
    loaded = nx.read_graphml(tmp_path / "g.graphml")
    assert loaded.number_of_nodes() == len(grad_graph)
    assert loaded.number_of_edges() == grad_graph.nx.number_of_edges()
    result = sg.viz.export(grad_graph, tmp_path / "g.json")
    assert result.renderer == "networkx"
    data = json.loads((tmp_path / "g.json").read_text())
    again = nx.node_link_graph(data, edges="edges")
    assert again.number_of_nodes() == len(grad_graph)
    constants = [d for _, d in again.nodes(data=True) if d["op"] == "constant"]
    assert constants and all("array" in d["params"]["value"] for d in constants)
    gradient = [d for _, d in again.nodes(data=True) if d["kind"] == "gradient"]
    assert gradient and all("grad_of" in d for d in gradient)


def test_export_traces_functions_and_transformations(tmp_path, loss_args):
    sg.viz.export(loss, tmp_path / "forward.dot", *loss_args)
    sg.viz.export(sg.grad(loss), tmp_path / "gradient.dot", *loss_args)
    forward = (tmp_path / "forward.dot").read_text()
    gradient = (tmp_path / "gradient.dot").read_text()
    assert 'class="gradient"' not in forward and 'class="gradient"' in gradient


# -- bad input --------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["graph.pdf", "graph", "graph.svgz"])
def test_unknown_extension_names_path_and_formats(tmp_path, small_graph, name):
    with pytest.raises(sg.viz.ExportError) as error:
        sg.viz.export(small_graph, tmp_path / name)
    message = str(error.value)
    assert name in message and ".svg" in message and ".png" in message and ".graphml" in message
    assert isinstance(error.value, ValueError)
    assert not (tmp_path / name).exists()


def test_unwritable_paths_are_clear_errors(tmp_path, small_graph, monkeypatch):
    with pytest.raises(sg.viz.ExportError, match="does not exist"):
        sg.viz.export(small_graph, tmp_path / "missing" / "g.svg")
    (tmp_path / "file").write_text("")
    with pytest.raises(sg.viz.ExportError, match="file"):
        sg.viz.export(small_graph, tmp_path / "file" / "g.dot")
    (tmp_path / "folder.svg").mkdir()
    with pytest.raises(sg.viz.ExportError, match="folder"):
        sg.viz.export(small_graph, tmp_path / "folder.svg")
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    with pytest.raises(sg.viz.ExportError, match="permission denied") as error:
        sg.viz.export(small_graph, tmp_path / "g.png")
    assert "g.png" in str(error.value)


def test_png_without_any_renderer_says_what_to_install(tmp_path, small_graph, monkeypatch):
    monkeypatch.setattr(viz_files, "graphviz_program", lambda: None)
    monkeypatch.setattr(viz_files, "has_matplotlib", lambda: False)
    with pytest.raises(sg.viz.ExportError, match="graphviz.*matplotlib"):
        sg.viz.export(small_graph, tmp_path / "g.png")
    assert sg.viz.export(small_graph, tmp_path / "g.svg").renderer == "built-in SVG writer"
    with pytest.raises(sg.viz.ExportError, match="unknown renderer"):
        sg.viz.export(small_graph, tmp_path / "g.svg", renderer="inkscape")


def test_drawing_something_else_is_a_tracing_error(tmp_path):
    with pytest.raises(sg.TracingError, match="cannot draw"):
        sg.viz.to_dot(42)


# -- statistics -------------------------------------------------------------------------------
def test_summary_of_a_matmul():
    stats = sg.viz.summary(sg.trace(lambda a, b: a @ b, np.ones((2, 3)), np.ones((3, 4))))
    assert stats.flops == 2 * 2 * 4 * 3
    assert stats.op_counts == {"input": 2, "matmul": 1}
    assert stats.bytes_moved == (6 + 12 + 8) * 8


def test_summary_counts_flops_bytes_and_peak_memory_of_a_chain():
    stats = sg.viz.summary(sg.trace(lambda x: np.exp(x) * 2.0, np.ones(10)))
    assert stats.flops == 10 + 10
    assert stats.bytes_moved == (80 + 80) + (80 + 8 + 80)    # exp; mul reads the scalar too
    assert stats.resident_bytes == 80 + 8                    # the input and the constant
    assert stats.peak_bytes == 88 + 80 + 80                  # exp still live while mul writes
    assert stats.kind_counts == {"input": 1, "constant": 1, "forward": 2}
    assert "FLOPs: 20" in str(stats)


def test_summary_of_a_compiled_graph_counts_fused_nests_once(loss_args):
    op_by_op = sg.viz.summary(sg.grad(loss), *loss_args)
    compiled = sg.viz.summary(sg.grad(loss).compiled(*loss_args))
    assert compiled.fused and not op_by_op.fused
    assert compiled.bytes_moved < op_by_op.bytes_moved
    assert compiled.flops <= op_by_op.flops
    matmuls = 2 * (4 * 2 * 3) + 2 * (3 * 2 * 4)             # forward x@w, gradient x.T@g
    assert op_by_op.flops > matmuls
    assert op_by_op.kind_counts["gradient"] > 0 and op_by_op.kind_counts["parameter"] == 1


def test_w1_demo_writes_svg_pictures_and_names_the_renderer(tmp_path, capsys, monkeypatch):
    import importlib.util
    path = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "w1_numpy_grad.py")
    spec = importlib.util.spec_from_file_location("w1_numpy_grad_demo", path)
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    monkeypatch.setattr(viz_files, "graphviz_program", lambda: None)   # as on a fresh machine
    demo.write_graphs(str(tmp_path))
    printed = capsys.readouterr().out
    for name in ("w1_forward", "w1_gradient"):
        assert ElementTree.parse(tmp_path / f"{name}.svg").getroot().tag == f"{SVG}svg"
        assert f"{name}.svg (drawn by built-in SVG writer)" in printed
    assert "FLOPs" in printed
