"""W7: a character-level GPT written as nanoGPT's ``model.py`` writes it, with
``import symgrad as torch``: token and position ``Embedding``, blocks of ``LayerNorm`` ->
causal self-attention (``masked_fill`` on a ``tril`` buffer, softmax, dropout) ->
``LayerNorm`` -> MLP with ``GELU``, the head tied to the token embedding, ``AdamW`` with
weight-decay groups, ``clip_grad_norm_`` and a cosine learning-rate schedule.

It trains on the project's own sources (``symgrad/nn/*.py``, characters as tokens), eagerly
and as one compiled ``sg.train`` loop, printing the loss every few steps, then samples text.

Run: ``python examples/w7_char_gpt.py [--mode eager|compiled|both] [--steps 200]``.
"""
import argparse
import inspect
import math
import pathlib
import time
from dataclasses import dataclass

import numpy as np

import symgrad as torch
from symgrad import nn
from symgrad.nn import functional as F
import symgrad as sg

SOURCES = pathlib.Path(__file__).resolve().parent.parent / "symgrad" / "nn"


class LayerNorm(nn.Module):
    """ LayerNorm but with an optional bias. PyTorch doesn't support simply bias=False """

    def __init__(self, ndim, bias):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(ndim))
        self.bias = nn.Parameter(torch.zeros(ndim)) if bias else None

    def forward(self, input):
        return F.layer_norm(input, self.weight.shape, self.weight, self.bias, 1e-5)


class CausalSelfAttention(nn.Module):

    def __init__(self, config):
        super().__init__()
        assert config.n_embd % config.n_head == 0
        # key, query, value projections for all heads, but in a batch
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        # output projection
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        # regularization
        self.attn_dropout = nn.Dropout(config.dropout)
        self.resid_dropout = nn.Dropout(config.dropout)
        self.n_head = config.n_head
        self.n_embd = config.n_embd
        self.dropout = config.dropout
        # the flash path is F.scaled_dot_product_attention; W7 measures the manual one
        self.flash = config.flash and hasattr(torch.nn.functional, 'scaled_dot_product_attention')
        if not self.flash:
            # causal mask to ensure that attention is only applied to the left in the input sequence
            self.register_buffer("bias", torch.tril(torch.ones(config.block_size, config.block_size))
                                 .view(1, 1, config.block_size, config.block_size))

    def forward(self, x):
        B, T, C = x.size()  # batch size, sequence length, embedding dimensionality (n_embd)

        # calculate query, key, values for all heads in batch and move head forward to be the batch dim
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)

        # causal self-attention; Self-attend: (B, nh, T, hs) x (B, nh, hs, T) -> (B, nh, T, T)
        if self.flash:
            y = torch.nn.functional.scaled_dot_product_attention(
                q, k, v, attn_mask=None, dropout_p=self.dropout if self.training else 0, is_causal=True)
        else:
            # manual implementation of attention
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
            att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float('-inf'))
            att = F.softmax(att, dim=-1)
            att = self.attn_dropout(att)
            y = att @ v  # (B, nh, T, T) x (B, nh, T, hs) -> (B, nh, T, hs)
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # re-assemble all head outputs side by side

        # output projection
        y = self.resid_dropout(self.c_proj(y))
        return y


class MLP(nn.Module):

    def __init__(self, config):
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x):
        x = self.c_fc(x)
        x = self.gelu(x)
        x = self.c_proj(x)
        x = self.dropout(x)
        return x


class Block(nn.Module):

    def __init__(self, config):
        super().__init__()
        self.ln_1 = LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        x = x + self.mlp(self.ln_2(x))
        return x


@dataclass
class GPTConfig:
    block_size: int = 64
    vocab_size: int = 128
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.0
    bias: bool = True  # True: bias in Linears and LayerNorms, like GPT-2
    flash: bool = False  # True: F.scaled_dot_product_attention instead of the masked_fill path


class GPT(nn.Module):

    def __init__(self, config):
        super().__init__()
        assert config.vocab_size is not None
        assert config.block_size is not None
        self.config = config

        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(config.vocab_size, config.n_embd),
            wpe=nn.Embedding(config.block_size, config.n_embd),
            drop=nn.Dropout(config.dropout),
            h=nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
            ln_f=LayerNorm(config.n_embd, bias=config.bias),
        ))
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.transformer.wte.weight = self.lm_head.weight  # https://paperswithcode.com/method/weight-tying

        # init all weights
        self.apply(self._init_weights)
        # apply special scaled init to the residual projections, per GPT-2 paper
        for pn, p in self.named_parameters():
            if pn.endswith('c_proj.weight'):
                torch.nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

    def get_num_params(self, non_embedding=True):
        n_params = sum(p.numel() for p in self.parameters())
        if non_embedding:
            n_params -= self.transformer.wpe.weight.numel()
        return n_params

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                torch.nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def forward(self, idx, targets=None):
        device = idx.device
        b, t = idx.size()
        assert t <= self.config.block_size, f"Cannot forward sequence of length {t}, block size is only {self.config.block_size}"
        pos = torch.arange(0, t, dtype=torch.long, device=device)  # shape (t)

        # forward the GPT model itself
        tok_emb = self.transformer.wte(idx)  # token embeddings of shape (b, t, n_embd)
        pos_emb = self.transformer.wpe(pos)  # position embeddings of shape (t, n_embd)
        x = self.transformer.drop(tok_emb + pos_emb)
        for block in self.transformer.h:
            x = block(x)
        x = self.transformer.ln_f(x)

        if targets is not None:
            # if we are given some desired targets also calculate the loss
            logits = self.lm_head(x)
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)
        else:
            # inference-time mini-optimization: only forward the lm_head on the very last position
            logits = self.lm_head(x[:, [-1], :])  # note: using list [-1] to preserve the time dim
            loss = None

        return logits, loss

    def configure_optimizers(self, weight_decay, learning_rate, betas, device_type):
        # start with all of the candidate parameters
        param_dict = {pn: p for pn, p in self.named_parameters()}
        # filter out those that do not require grad
        param_dict = {pn: p for pn, p in param_dict.items() if p.requires_grad}
        # create optim groups. Any parameters that is 2D will be weight decayed, otherwise no.
        decay_params = [p for n, p in param_dict.items() if p.dim() >= 2]
        nodecay_params = [p for n, p in param_dict.items() if p.dim() < 2]
        optim_groups = [
            {'params': decay_params, 'weight_decay': weight_decay},
            {'params': nodecay_params, 'weight_decay': 0.0}
        ]
        # Create AdamW optimizer and use the fused version if it is available
        fused_available = 'fused' in inspect.signature(torch.optim.AdamW).parameters
        use_fused = fused_available and device_type == 'cuda'
        extra_args = dict(fused=True) if use_fused else dict()
        optimizer = torch.optim.AdamW(optim_groups, lr=learning_rate, betas=betas, **extra_args)
        return optimizer

    @torch.no_grad()
    def generate(self, idx, max_new_tokens, temperature=1.0, top_k=None):
        for _ in range(max_new_tokens):
            # if the sequence context is growing too long we must crop it at block_size
            idx_cond = idx if idx.size(1) <= self.config.block_size else idx[:, -self.config.block_size:]
            # forward the model to get the logits for the index in the sequence
            logits, _ = self(idx_cond)
            # pluck the logits at the final step and scale by desired temperature
            logits = logits[:, -1, :] / temperature
            # optionally crop the logits to only the top k options
            if top_k is not None:
                v, _ = torch.topk(logits, min(top_k, logits.size(-1)))
                logits[logits < v[:, [-1]]] = -float('Inf')
            # apply softmax to convert logits to (normalized) probabilities
            probs = F.softmax(logits, dim=-1)
            # sample from the distribution
            idx_next = torch.multinomial(probs, num_samples=1)
            # append sampled index to the running sequence and continue
            idx = torch.cat((idx, idx_next), dim=1)
        return idx


# -- data and training loop (nanoGPT's train.py, reduced to a CPU run) --------------------------
def load_text():
    """The project's own sources: every ``symgrad/nn/*.py`` in name order."""
    return "".join(path.read_text() for path in sorted(SOURCES.glob("*.py")))


def encode(text):
    """(token array, characters): each character's index in the sorted alphabet."""
    chars = sorted(set(text))
    lookup = {c: i for i, c in enumerate(chars)}
    return np.array([lookup[c] for c in text], dtype=np.int64), chars


def batches(data, steps, batch_size, block_size, seed=0):
    """``steps`` random windows of ``batch_size`` rows, stacked: (inputs, next characters)."""
    starts = np.random.default_rng(seed).integers(0, len(data) - block_size - 1,
                                                  size=steps * batch_size)
    x = np.stack([data[i:i + block_size] for i in starts])
    y = np.stack([data[i + 1:i + 1 + block_size] for i in starts])
    return x, y


def training_step(model, steps, learning_rate=1e-3, weight_decay=0.1, grad_clip=1.0):
    """nanoGPT's step: AdamW over the decay groups, gradient clipping, a cosine schedule
    stepped every step. Returns ``step(x, y) -> loss`` for an eager loop or ``sg.train``."""
    optimizer = model.configure_optimizers(weight_decay, learning_rate, (0.9, 0.95), "cpu")
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps,
                                                           eta_min=learning_rate / 10)

    def step(x, y):
        optimizer.zero_grad(set_to_none=True)
        _, loss = model(x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        optimizer.step()
        scheduler.step()
        return loss
    return step


def train_eager(model, x, y, batch_size, every=20, make_step=training_step):
    """The eager loop over ``x``, ``y`` in batches; prints the loss every ``every`` steps."""
    step = make_step(model, len(x) // batch_size)
    losses = []
    for i in range(len(x) // batch_size):
        rows = slice(i * batch_size, (i + 1) * batch_size)
        losses.append(step(torch.from_numpy(x[rows]), torch.from_numpy(y[rows])).item())
        if i % every == 0:
            print(f"  step {i:4d}  loss {losses[-1]:.4f}")
    return losses


def train_compiled(model, x, y, batch_size, every=20, make_step=training_step):
    """The same steps as one compiled ``sg.train`` loop."""
    step = make_step(model, len(x) // batch_size)
    losses = sg.train(step, data=(x, y), epochs=1, batch_size=batch_size, progress=False)
    for i in range(0, len(losses), every):
        print(f"  step {i:4d}  loss {losses[i]:.4f}")
    return list(losses)


def describe_gpt(model, chars):
    return f"{model.get_num_params() / 1e6:.2f}M parameters, {len(chars)} characters"


def main(model_class=GPT, config_class=GPTConfig, make_step=training_step, describe=describe_gpt,
         description=__doc__.splitlines()[0], **sample_options):
    """Train ``model_class`` on the repository's text eagerly and/or compiled, then sample;
    W8 runs its LSTM through this same program."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--mode", choices=("eager", "compiled", "both"), default="compiled")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args()
    data, chars = encode(load_text())
    config = config_class(vocab_size=len(chars))
    x, y = batches(data, args.steps, args.batch_size, config.block_size)
    for mode, train in (("eager", train_eager), ("compiled", train_compiled)):
        if args.mode not in (mode, "both"):
            continue
        torch.manual_seed(1337)
        model = model_class(config)
        if describe is not None:
            print(f"{mode}: {describe(model, chars)}")
        start = time.perf_counter()
        losses = train(model, x, y, args.batch_size, make_step=make_step)
        print(f"{mode}: {len(losses)} steps in {time.perf_counter() - start:.1f} s, "
              f"final loss {losses[-1]:.4f}")
    model.eval()
    prompt = torch.tensor([[chars.index("d")]], dtype=torch.long)
    sample = model.generate(prompt, 200, temperature=0.8, **sample_options)[0].tolist()
    print("sample:\n" + "".join(chars[i] for i in sample))


if __name__ == "__main__":
    main(top_k=20)
