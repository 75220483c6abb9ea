"""W7 (character GPT) and W8 (character LSTM) training steps: µs/step for symgrad's
``sg.train``, symgrad eager, PyTorch eager and ``torch.compile`` (CPU, when it works here),
each variant in a fresh process running the example's own model code from the same
weights, with the cold compile (or first-steps) time.

Run: ``python benchmarks/bench_models.py [--steps 20] [--workloads w7 w8]``.
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import time

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"
WORKLOADS = {"w7": ("w7_char_gpt", "GPT", "GPTConfig"),
             "w8": ("w8_char_lstm", "CharLSTM", "LSTMConfig")}
VARIANTS = ("symgrad sg.train", "symgrad eager", "PyTorch eager", "torch.compile")
BATCH = 16


def _setup(workload, variant, steps):
    """(example module for the variant, model, inputs, targets) at the example's CPU size."""
    sys.path.insert(0, str(EXAMPLES))
    import w7_char_gpt
    name, model_class, config_class = WORKLOADS[workload]
    if variant.startswith("symgrad"):
        import importlib
        example = importlib.import_module(name)
    else:
        from pytorch_twin import load_with_pytorch
        example = load_with_pytorch(name)
    data, chars = w7_char_gpt.encode(w7_char_gpt.load_text())
    config = getattr(example, config_class)(vocab_size=len(chars))
    x, y = w7_char_gpt.batches(data, steps, BATCH, config.block_size)
    example.torch.manual_seed(0)
    return example, getattr(example, model_class)(config), x, y


def _eager_seconds(example, model, x, y, compiled=False):
    """(seconds per step after warm-up, seconds of the warm-up steps)."""
    torch = example.torch
    step = example.training_step(model, len(x) // BATCH)
    if compiled:
        step = torch.compile(step)
    batches = [(torch.from_numpy(x[i:i + BATCH]), torch.from_numpy(y[i:i + BATCH]))
               for i in range(0, len(x), BATCH)]
    start = time.perf_counter()
    for xb, yb in batches[:3]:
        step(xb, yb).item()
    warm = time.perf_counter() - start
    start = time.perf_counter()
    for xb, yb in batches[3:]:
        step(xb, yb).item()
    return (time.perf_counter() - start) / (len(batches) - 3), warm


def _train_seconds(example, model, x, y):
    """sg.train: (seconds per step of a second run of the compiled loop, first-run seconds)."""
    import symgrad as sg
    step = example.training_step(model, len(x) // BATCH)
    start = time.perf_counter()
    sg.train(step, data=(x[:2 * BATCH], y[:2 * BATCH]), epochs=1, batch_size=BATCH,
             progress=False)
    cold = time.perf_counter() - start
    start = time.perf_counter()
    sg.train(step, data=(x, y), epochs=1, batch_size=BATCH, progress=False)
    return (time.perf_counter() - start) / (len(x) // BATCH), cold


def child(workload, variant, steps):
    example, model, x, y = _setup(workload, variant, steps)
    if variant == "symgrad sg.train":
        return _train_seconds(example, model, x, y)
    return _eager_seconds(example, model, x, y, compiled=variant == "torch.compile")


def measure(workload, variant, steps):
    env = dict(os.environ, SYMGRAD_COMPILE_IN_BACKGROUND="0")
    done = subprocess.run([sys.executable, __file__, "--child", workload, variant,
                           "--steps", str(steps)], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        print(f"  {workload} {variant}: failed: {done.stderr.strip().splitlines()[-1:]}")
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--workloads", nargs="+", default=list(WORKLOADS))
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS))
    parser.add_argument("--child", nargs=2)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child, args.steps)))
        return
    for workload in args.workloads:
        rows = {v: measure(workload, v, args.steps) for v in args.variants}
        eager = (rows.get("PyTorch eager") or [None])[0]
        print(f"\n{workload} ({WORKLOADS[workload][0]}, batch {BATCH})")
        print(f"{'variant':<20}{'µs/step':>12}{'÷ PyTorch eager':>18}{'compile/warm-up s':>20}")
        for variant, result in rows.items():
            if result is None:
                continue
            per_step, cold = result
            ratio = f"{per_step / eager:.2f}" if eager else "-"
            print(f"{variant:<20}{per_step * 1e6:>12.0f}{ratio:>18}{cold:>20.1f}")


if __name__ == "__main__":
    main()
