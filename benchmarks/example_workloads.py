"""W7 (char GPT) and W8 (char LSTM) as compile-time workloads of bench_compile.py: the
example's own model and training step at the tests' tiny sizes (tests/test_examples_models.py)."""
import importlib.util
import os
import sys
import time

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")
# the tests' tiny sizes (tests/test_examples_models.py): a model's cold compile, not its speed
EXAMPLE_MODELS = {"w7_char_gpt": ("GPT", "GPTConfig", dict(n_layer=1, n_head=1, n_embd=8,
                                                            block_size=4)),
                  "w8_char_lstm": ("CharLSTM", "LSTMConfig", dict(n_embd=4, hidden_size=4,
                                                                  num_layers=1, block_size=3))}


def example_train(name, steps=3, batch=4):
    """W7 (char GPT) / W8 (char LSTM): the example's compiled ``sg.train`` loop, tiny."""
    import symgrad as sg
    sys.path.insert(0, EXAMPLES)           # W8 imports W7's data helpers, as the programs do
    spec = importlib.util.spec_from_file_location(name, os.path.join(EXAMPLES, f"{name}.py"))
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    model_name, config_name, sizes = EXAMPLE_MODELS[name]
    data, chars = example.encode(example.load_text())
    config = getattr(example, config_name)(vocab_size=len(chars), **sizes)
    x, y = example.batches(data, steps, batch, config.block_size)
    sg.manual_seed(0)
    model = getattr(example, model_name)(config)
    step = example.training_step(model, steps)
    start = time.perf_counter()
    losses = sg.train(step, data=(x, y), epochs=1, batch_size=batch, progress=False)
    assert len(losses) == steps
    return time.perf_counter() - start
