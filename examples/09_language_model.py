# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lesson 9: a language model from scratch
#
# A language model gives the probability of the next character from the ones before it,
# P(next | context). It is a classifier (lesson 4) whose classes are the characters,
# trained with the same cross-entropy, −ln P(the character that came), and scored in nats
# per character on text it never saw. Guessing uniformly among the V characters scores
# ln V; every nat below that is something the model learnt about the language.
#
# The text ships with every Python: its language reference, about 465,000 characters. Four
# models, each better informed than the last:
#
# 1. a **bigram** from counts: P(b | a) = (N(a, b) + 1) / (N(a) + V);
# 2. the same bigram **trained** by gradient descent: one table of logits, `nn.Embedding(V, V)`;
# 3. an **MLP** that reads the last 8 characters (Bengio et al., 2003);
# 4. a small **causal transformer**: each position reads all the earlier ones through
#    attention, built here from `Linear`, `matmul`, `where` and `softmax`.
#
# As a script: `python examples/09_language_model.py [--quick] [--out DIR]` (full mode
# trains the transformer for a few minutes on two CPU cores; `--quick` takes seconds). In a
# notebook, run the cells from the top; the exercises are at the end.

# %%
"""Lesson 9: a language model from scratch, from counting pairs to a small transformer."""

import math
import sys
import time

import numpy as np
from _common import (
    check_derivation,
    check_prediction,
    figure,
    not_done,
    parse_args,
    progress,
    render_graph,
    save_figure,
    say,
)

import tinygrad_edu as tg
import tinygrad_edu.functional as F
from tinygrad_edu import Tensor, nn, optim
from tinygrad_edu.autograd import wrap

# %% [markdown]
# ## The text and its characters
#
# `pydoc_data.topics` holds the text that `help("if")` prints: the language reference, in
# every Python installation, so the lesson needs no download. Python versions differ a
# little, so the lesson prints the version and the text's size. Each distinct character
# gets an index; the model works on indices.
#
# The first 90% of the text trains, the last 10% validates. The split is by position, not
# at random: a random split would put most of every validation sentence into training.


# %%
def load_text():
    """The language reference that ships with Python, as one string."""
    import pydoc_data.topics

    return "".join(pydoc_data.topics.topics.values())


class Vocabulary:
    """The distinct characters of a text, in sorted order, each with its index."""

    def __init__(self, text):
        self.chars = sorted(set(text))
        self.index = {char: i for i, char in enumerate(self.chars)}

    def __len__(self):
        return len(self.chars)

    def encode(self, text):
        """The indices of the characters of `text`, int64 (len(text),)."""
        return np.array([self.index[char] for char in text], dtype=np.int64)

    def decode(self, ids):
        return "".join(self.chars[i] for i in ids)


def split(ids, train_fraction=0.9):
    """(train, validation): the first 90% of the text and the rest."""
    n = int(len(ids) * train_fraction)
    return ids[:n], ids[n:]


# %% [markdown]
# ## 1. The bigram, counted
#
# The simplest model looks at one character only. Count every pair (a, b) of neighbours
# in the training text; P(b | a) is the fraction of a's followed by b. A pair that never
# occurred would get probability 0, and −ln 0 = ∞ on the first validation text that has
# it, so we add one to every count (Laplace's add-one smoothing):
#
#     P(b | a) = (N(a, b) + 1) / (N(a) + V)


# %%
def count_bigrams(ids, vocab_size):
    """N (V, V): N[a, b] is how often character b follows character a."""
    pairs = ids[:-1] * vocab_size + ids[1:]
    return np.bincount(pairs, minlength=vocab_size * vocab_size).reshape(vocab_size, vocab_size)


def bigram_probabilities(counts):
    """P(b | a) with add-one smoothing: (N[a, b] + 1) / Σ_b (N[a, b] + 1); rows sum to 1."""
    smoothed = counts + 1.0
    return smoothed / smoothed.sum(axis=1, keepdims=True)


def bigram_loss(probs, ids):
    """The mean of −ln P(next | previous) over the text: nats per character."""
    return float(-np.log(probs[ids[:-1], ids[1:]]).mean())


# %% [markdown]
# ## Windows of text, and one training loop for every model
#
# The neural models train on random windows of the training text: a window of
# `length + 1` characters gives `length` inputs, and each input's target is the character
# after it. Every model maps indices to logits over the V characters, and trains the same
# way: cross-entropy, backward, clip the gradient's norm, an AdamW step, and a learning
# rate that follows a cosine from `lr` down to `lr / 10`.


# %%
def random_windows(ids, length, batch, rng):
    """`batch` windows of length + 1 characters at random places: inputs (batch, length) and
    targets (batch, length), where targets[:, t] is the character after inputs[:, t]."""
    starts = rng.integers(0, len(ids) - length, size=batch)
    windows = ids[starts[:, None] + np.arange(length + 1)]
    return windows[:, :-1], windows[:, 1:]


def next_character_loss(model, inputs, targets, reduction="mean"):
    """Cross-entropy of the model's logits (..., V) against the targets (...)."""
    logits = model(inputs)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction=reduction)


def train(model, batches, steps, lr, name):
    """`steps` AdamW steps on the batches that `batches()` draws; returns the training losses."""
    opt = optim.AdamW(model.parameters(), lr=lr)
    schedule = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps, eta_min=lr / 10)
    losses = []
    bar = progress(range(steps), name)
    for step in bar:
        loss = next_character_loss(model, *batches())
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)  # one unlucky batch cannot throw the model far
        opt.step()
        schedule.step()
        losses.append(loss.item())
        if step % 20 == 0:
            bar.set_postfix(loss=f"{losses[-1]:.4g}", refresh=False)
    return losses


def evaluate(model, inputs, targets, batch):
    """The mean cross-entropy over every (input, target) pair, in nats per character."""
    total = 0.0
    with tg.no_grad():
        for start in range(0, len(inputs), batch):
            chunk = slice(start, start + batch)
            total += next_character_loss(model, inputs[chunk], targets[chunk], reduction="sum").item()
    return total / targets.size


# %% [markdown]
# ## 2. The bigram, trained
#
# The same model as a neural network: a table of V × V logits, one row per character,
# looked up with `nn.Embedding(V, V)`; softmax turns row a into P(· | a). The table that
# makes the training text most likely is the counts' own answer, softmax(row a)_b =
# N(a, b) / N(a), and gradient descent on the cross-entropy walks towards it. So the two
# models score alike on the validation text (the add-one smoothing and the last steps of
# training differ by about a hundredth of a nat): a network trained by gradient descent
# learns what counting would tell it, where counting is possible. Counting stops being
# possible with longer contexts (V⁸ windows of eight characters): there the networks
# take over.


# %%
class Bigram(nn.Module):
    """logits of the next character = the row of a table for the current one:
    ids (B, T) → logits (B, T, V)."""

    def __init__(self, vocab_size):
        super().__init__()
        self.table = nn.Embedding(vocab_size, vocab_size)

    def forward(self, ids):
        return self.table(ids)


# %% [markdown]
# ## 3. An MLP over a window of characters (Bengio et al., 2003)
#
# One character says little; the last eight say much more. Each of them becomes a vector
# (an embedding learnt with the rest), the vectors are laid end to end, and a hidden
# layer with tanh reads them all:
#
#     h = tanh(W₁ [e(c₁); e(c₂); …; e(c₈)] + b₁),   logits = W₂ h + b₂
#
# A window of characters it never saw as a whole still gets a sensible prediction: similar
# characters get similar embeddings, and the hidden layer generalises across them.


# %%
class MLP(nn.Module):
    """The next character from the last `context` ones: ids (B, context) → logits (B, V)."""

    def __init__(self, vocab_size, context, embedding_dim, hidden):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        self.hidden = nn.Linear(context * embedding_dim, hidden)
        self.output = nn.Linear(hidden, vocab_size)

    def forward(self, ids):
        vectors = self.embedding(ids)  # (B, context, embedding_dim)
        joined = vectors.reshape(vectors.shape[0], -1)  # laid end to end
        return self.output(self.hidden(joined).tanh())


def mlp_windows(ids, context):
    """Every window of the text: inputs (N, context) and the character after each (N,)."""
    windows = np.lib.stride_tricks.sliding_window_view(ids, context + 1)
    return windows[:, :-1], windows[:, -1]


# %% [markdown]
# ## 4. Attention
#
# The MLP reads a fixed window, each place of it through weights of its own: to look
# further back it needs more weights, and what it learnt at one place does not carry to
# another. Attention lets every position choose what to read from all the earlier ones,
# with the same weights at every distance.
# Position t makes a query qₜ ("what I am looking for"), every position s a key kₛ ("what
# I hold") and a value vₛ ("what I pass on"), all three linear maps of its vector. The
# weight of s for t is a softmax over the scores qₜ · kₛ / √d, and the output is the
# weighted mean of the values:
#
#     attention(Q, K, V) = softmax(Q Kᵀ / √d + mask) V
#
# The mask is −∞ where s > t: a character may not read the future it is asked to
# predict (e^(−∞) = 0, so those weights are zero). Several heads, each with its own
# queries, keys and values on a slice of the vector, look for different things at once.
# Written with the library's matmul, where and softmax, in a few lines:


# %%
def causal_attention(query, key, value):
    """softmax(Q Kᵀ / √d, the future masked) V for query, key, value (..., T, d):
    returns the output (..., T, d) and the attention weights (..., T, T)."""
    length, d = query.shape[-2:]
    scores = (query @ key.transpose()) * (1 / math.sqrt(d))  # (..., T, T): how well query t matches key s
    future = Tensor(np.triu(np.ones((length, length), dtype=bool), k=1))  # s > t
    weights = tg.where(future, -math.inf, scores).softmax()
    return weights @ value, weights


class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention: x (B, T, width) → (B, T, width), with `heads`
    heads of width / heads dimensions each, and a linear map that mixes their outputs."""

    def __init__(self, width, heads):
        super().__init__()
        if width % heads:
            raise ValueError(f"CausalSelfAttention: width {width} is not a multiple of heads {heads}")
        self.heads = heads
        self.query = nn.Linear(width, width)
        self.key = nn.Linear(width, width)
        self.value = nn.Linear(width, width)
        self.proj = nn.Linear(width, width)

    def split_heads(self, x):
        """(B, T, width) → (B, heads, T, width / heads): each head its slice of the vector."""
        batch, length, width = x.shape
        return x.reshape(batch, length, self.heads, width // self.heads).transpose(1, 2)

    def queries_keys_values(self, x):
        """Q, K and V of x (B, T, width), each (B, heads, T, width / heads)."""
        return self.split_heads(self.query(x)), self.split_heads(self.key(x)), self.split_heads(self.value(x))

    def forward(self, x):
        out, _ = causal_attention(*self.queries_keys_values(x))
        batch, length, width = x.shape
        return self.proj(out.transpose(1, 2).reshape(batch, length, width))  # the heads side by side again


# %% [markdown]
# ## 5. The transformer
#
# A block is attention (positions talk to each other) followed by an MLP (each position
# thinks on its own), each on a LayerNorm of its input and added back to it: the
# residual x + f(LayerNorm(x)) keeps a straight path for the gradient through the depth.
# The MLP widens each vector to 4 × width and back, with GELU between, a smooth ReLU:
# GELU(x) = x·Φ(x), Φ the normal distribution's CDF, here in GPT-2's approximation
#
#     GELU(x) ≈ ½x(1 + t),   t = tanh(√(2/π)(x + 0.044715x³))
#
# (the exact Φ needs erf, which costs several times more). Attention does not know where a
# character stands, so a learnt vector for each position is added to the character's
# embedding. A last LayerNorm and a Linear layer give the logits of the next character at
# every position at once: one window of T characters is T training examples.
#
# **One op where nine were.** `nn.GELU(approximate="tanh")` builds the formula above from
# nine ops, each a pass over the MLP's widest activations, forward and back. `TanhGELU`
# is the same maths as one `tg.Function` (lesson 7): forward computes GELU(x) and its
# derivative together, while x is in the cache, and backward is one product. The plain
# composition stays the reference: a test holds the two equal, values and gradients.


# %%
class TanhGELU(tg.Function):
    """GELU(x) ≈ ½x(1 + t), t = tanh(√(2/π)(x + 0.044715x³)), as one op: x any shape → the
    same shape. GELU'(x) = ½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 3·0.044715x²).

    Forward keeps GELU'(x); under create_graph, backward computes it again with Tensor ops,
    so that the gradient can be differentiated again."""

    formula = "GELU'(x) = ½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 0.134145x²)"

    def forward(self, x):
        # Each step works in place on an array of its own: on a (32, 64, 512) activation
        # every temporary would cost one more pass over 4 MB (this takes 1.5 ms a call,
        # the one-line formulas 2.7 ms). With h = ½(1 + t) and 1 − t² = (1 − t)(1 + t),
        # GELU'(x) = h·(1 + x(1 − t)·√(2/π)(1 + 3·0.044715x²)): two passes fewer.
        c = math.sqrt(2 / math.pi)
        x_squared = x * x
        t = x_squared * (0.044715 * c)
        t += c
        t *= x
        np.tanh(t, out=t)  # t = tanh(√(2/π)(x + 0.044715x³))
        h = t * 0.5
        h += 0.5  # h = ½(1 + t)
        y = h * x  # GELU(x) = ½x(1 + t)
        np.subtract(1, t, out=t)  # 1 − t
        slope = x_squared
        slope *= 3 * 0.044715 * c
        slope += c
        slope *= x
        slope *= t
        slope += 1
        slope *= h
        self.saved = slope  # GELU'(x)
        return y

    def backward(self, grad):
        if not tg.is_grad_enabled():
            return grad * wrap(self.saved)
        (x,) = self.inputs  # create_graph: GELU'(x) as Tensor ops of x
        c = math.sqrt(2 / math.pi)
        t = (c * x * (1 + 0.044715 * x * x)).tanh()
        return grad * (0.5 * (1 + t) + 0.5 * c * x * (1 - t * t) * (1 + 3 * 0.044715 * x * x))


class GELU(nn.Module):
    """The tanh GELU as one node (TanhGELU); nn.GELU(approximate="tanh") is its plain twin."""

    def forward(self, x):
        return TanhGELU.apply(x)


class Block(nn.Module):
    """x + attention(LayerNorm(x)), then + MLP(LayerNorm(·)): (B, T, width) → (B, T, width)."""

    def __init__(self, width, heads):
        super().__init__()
        self.norm1 = nn.LayerNorm(width)
        self.attention = CausalSelfAttention(width, heads)
        self.norm2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), GELU(), nn.Linear(4 * width, width))

    def forward(self, x):
        x = x + self.attention(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class Transformer(nn.Module):
    """A causal character transformer: ids (B, T) with T ≤ context → logits (B, T, V),
    where logits[:, t] predicts the character after position t from positions 0..t."""

    def __init__(self, vocab_size, context, width, heads, layers):
        super().__init__()
        self.context = context
        self.token = nn.Embedding(vocab_size, width)
        self.position = nn.Embedding(context, width)
        self.blocks = nn.Sequential(*(Block(width, heads) for _ in range(layers)))
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, vocab_size)

    def embed(self, ids):
        """Each character's vector plus its position's: (B, T) → (B, T, width)."""
        return self.token(ids) + self.position(np.arange(ids.shape[-1]))

    def forward(self, ids):
        return self.head(self.norm(self.blocks(self.embed(ids))))


def transformer_windows(ids, context):
    """The text cut into windows of `context` characters: inputs and targets (N, context)."""
    n = (len(ids) - 1) // context * context
    return ids[:n].reshape(-1, context), ids[1 : n + 1].reshape(-1, context)


# %% [markdown]
# ## Writing text
#
# A language model writes by sampling: draw the next character from P(· | what came
# before), append it, repeat. Sampling (not taking the most likely character) keeps the
# variety of the text.


# %%
def sample(model, vocab, prompt, length, rng):
    """`prompt` followed by `length` characters drawn one at a time from the model."""
    ids = list(vocab.encode(prompt))
    with tg.no_grad():
        for _ in range(length):
            window = np.array([ids[-model.context :]])
            probs = F.softmax(model(window)[0, -1]).numpy().astype(np.float64)
            ids.append(int(rng.choice(len(probs), p=probs / probs.sum())))
    return vocab.decode(ids)


# %% [markdown]
# ## Pictures: the loss curves, an attention map, and the graph of one head
#
# The loss curves show each model's training loss, step by step, with its validation
# loss at the end. An attention map shows, for one head, where each character of a piece
# of validation text reads from: row t is query t, its weights over the keys s ≤ t sum to
# 1. And `tg.draw_graph` draws one tiny head, op by op, with each op's local derivative
# (`show_formulas=True`): Linear for the queries, keys and values, MatMul for Q Kᵀ, Mul by
# 1/√d, Where for the mask, Softmax, MatMul for the weighted values.


# %%
def plot_losses(curves, validation, baseline, uniform, out):
    """Each model's training loss per step (a running mean over 2% of its steps) with its
    validation loss as a dot at its last step; the counted bigram and ln V as lines."""
    fig, ax = figure(1, 1, width=6.5, height=4.2)
    for name, losses in curves.items():
        window = max(1, len(losses) // 50)
        smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
        (line,) = ax.plot(np.arange(len(smooth)) + window, smooth, lw=1, label=f"{name}: training")
        ax.plot(len(losses), validation[name], "o", color=line.get_color(), label=f"{name}: validation")
    ax.axhline(baseline, color="gray", ls="--", label="bigram from counts: validation")
    ax.axhline(uniform, color="black", ls=":", label="uniform guess, ln V")
    ax.set_xscale("log")
    ax.set_xlabel("training step")
    ax.set_ylabel("cross-entropy (nats per character)")
    ax.set_title("Learning to predict the next character")
    ax.legend(fontsize=7, ncol=2)
    return save_figure(fig, out, "language_model_losses.png")


def attention_map(model, ids):
    """The weights (heads, T, T) of the first block's heads on the text `ids` (T,)."""
    block = model.blocks[0]
    with tg.no_grad():
        x = block.norm1(model.embed(ids[None, :]))
        _, weights = causal_attention(*block.attention.queries_keys_values(x))
    return weights.numpy()[0]


def plot_attention(weights, text, out):
    """One head's attention weights (T, T) on `text`: row t is where the character at t reads from."""
    fig, ax = figure(1, 1, width=6.5, height=6.0)
    image = ax.imshow(weights, cmap="Blues", vmin=0, vmax=1)
    labels = ["␣" if char == " " else repr(char)[1:-1] for char in text]  # a space, shown
    ax.set_xticks(range(len(text)), labels, fontsize=7)
    ax.set_yticks(range(len(text)), labels, fontsize=7)
    ax.set_xlabel("key s: the character read")
    ax.set_ylabel("query t: the character reading")
    ax.set_title("Attention weights of the first block's first head")
    fig.colorbar(image, ax=ax, shrink=0.7, label="weight")
    return save_figure(fig, out, "attention_map.png")


def tiny_head():
    """One attention head on three positions of width 4, with two dimensions, small enough
    to draw; after backward. Returns its loss (the sum of its output) and names for the picture."""
    tg.manual_seed(0)
    x = tg.randn(3, 4)
    query, key, value = (nn.Linear(4, 2, bias=False) for _ in range(3))
    q, k, v = query(x), key(x), value(x)
    out, weights = causal_attention(q, k, v)
    loss = out.sum()
    loss.backward()
    names = {"x": x, "W_q": query.weight, "W_k": key.weight, "W_v": value.weight, "q": q, "k": k, "v": v}
    names.update({"attention weights": weights, "head output": out, "sum": loss})
    return loss, names


def draw_tiny_head(out):
    """The graph of one head with each op's formula, drawn by tg.draw_graph and written as
    an SVG (tg.viz.render); without graphviz's dot, one line says so and the lesson goes
    on. Returns the path, or None."""
    loss, names = tiny_head()
    return render_graph(
        "graph of one attention head", loss, out / "attention_head_graph.svg", params=names, show_formulas=True
    )


# %% [markdown]
# ## The lesson, end to end
#
# Every model draws its batches from the training text with one random generator, and is
# scored on the whole validation text. Full mode trains the transformer for 1,200 steps
# (a few minutes on two CPU cores); quick mode trains smaller models for fewer steps.

# %%
FULL = dict(
    bigram=dict(steps=600, batch=1024, lr=0.1),
    mlp=dict(context=8, embedding_dim=16, hidden=256, steps=3000, batch=256, lr=3e-3),
    transformer=dict(context=64, width=128, heads=4, layers=2, steps=1200, batch=32, lr=2e-3),
    sample_length=300,
)
QUICK = dict(
    bigram=dict(steps=200, batch=1024, lr=0.1),
    mlp=dict(context=8, embedding_dim=16, hidden=128, steps=400, batch=128, lr=3e-3),
    transformer=dict(context=32, width=32, heads=2, layers=2, steps=200, batch=16, lr=3e-3),
    sample_length=80,
)


def timed_training(model, batches, settings, name):
    """Train `model` with `settings` (steps, lr); returns the losses and the seconds it took."""
    start = time.perf_counter()
    losses = train(model, batches, settings["steps"], settings["lr"], name)
    return losses, time.perf_counter() - start


def bigram_models(train_ids, val_ids, vocab_size, settings, rng):
    """The counted and the trained bigram: their probabilities, losses and training curve."""
    probs = bigram_probabilities(count_bigrams(train_ids, vocab_size))
    model = Bigram(vocab_size)
    losses, seconds = timed_training(
        model, lambda: random_windows(train_ids, 1, settings["batch"], rng), settings, "bigram"
    )
    with tg.no_grad():
        trained_probs = F.softmax(model.table.weight).numpy()
    return {
        "counted": bigram_loss(probs, val_ids),
        "trained": evaluate(model, val_ids[:-1, None], val_ids[1:, None], batch=4096),
        "probs": probs,
        "trained_probs": trained_probs,
        "curve": losses,
        "seconds": seconds,
    }


def mlp_model(train_ids, val_ids, vocab_size, settings, rng):
    """The MLP over a window of characters, trained and scored."""
    context, batch = settings["context"], settings["batch"]
    model = MLP(vocab_size, context, settings["embedding_dim"], settings["hidden"])

    def batches():
        inputs, targets = random_windows(train_ids, context, batch, rng)
        return inputs, targets[:, -1]  # the character after the whole window

    losses, seconds = timed_training(model, batches, settings, "MLP")
    loss = evaluate(model, *mlp_windows(val_ids, context), batch=4096)
    return {"model": model, "loss": loss, "curve": losses, "seconds": seconds}


def transformer_model(train_ids, val_ids, vocab_size, settings, rng):
    """The transformer, trained and scored."""
    context = settings["context"]
    model = Transformer(vocab_size, context, settings["width"], settings["heads"], settings["layers"])
    losses, seconds = timed_training(
        model, lambda: random_windows(train_ids, context, settings["batch"], rng), settings, "transformer"
    )
    loss = evaluate(model, *transformer_windows(val_ids, context), batch=64)
    return {"model": model, "loss": loss, "curve": losses, "seconds": seconds}


def pictures(text, start, vocab, bigram, mlp, transformer, out):
    """The loss curves, the attention map on validation text from `start`, and the graph
    of one tiny head; returns the figures' paths and the graph's (None without dot)."""
    curves = {"bigram": bigram["curve"], "MLP": mlp["curve"], "transformer": transformer["curve"]}
    validation = {"bigram": bigram["trained"], "MLP": mlp["loss"], "transformer": transformer["loss"]}
    model = transformer["model"]
    snippet = text[start : start + min(40, model.context)]  # text the model never saw
    weights = attention_map(model, vocab.encode(snippet))
    figures = [
        plot_losses(curves, validation, bigram["counted"], math.log(len(vocab)), out),
        plot_attention(weights[0], snippet, out),
    ]
    return figures, draw_tiny_head(out), weights


def main(argv=None):
    args = parse_args(__doc__, argv)
    config = QUICK if args.quick else FULL
    tg.manual_seed(0)
    rng = np.random.default_rng(0)

    text = load_text()
    vocab = Vocabulary(text)
    train_ids, val_ids = split(vocab.encode(text))
    version = ".".join(map(str, sys.version_info[:3]))
    say("text", f"Python {version}'s language reference: {len(text):,} characters, {len(vocab)} distinct")
    say("split by position", f"{len(train_ids):,} characters to train, {len(val_ids):,} to validate")

    bigram = bigram_models(train_ids, val_ids, len(vocab), config["bigram"], rng)
    say("bigram validation loss", f"counted {bigram['counted']:.3f}, trained {bigram['trained']:.3f}")
    mlp = mlp_model(train_ids, val_ids, len(vocab), config["mlp"], rng)
    transformer = transformer_model(train_ids, val_ids, len(vocab), config["transformer"], rng)
    losses = f"bigram {bigram['counted']:.3f}, MLP {mlp['loss']:.3f}, transformer {transformer['loss']:.3f}"
    say("validation loss (nats per character)", losses)
    say("uniform guess, ln V", f"{math.log(len(vocab)):.3f}")
    seconds = {"bigram": bigram["seconds"], "MLP": mlp["seconds"], "transformer": transformer["seconds"]}
    steps = config["transformer"]["steps"]
    say("training time", ", ".join(f"{name} {s:.1f} s" for name, s in seconds.items()) + f" ({steps} steps)")
    text_sample = sample(transformer["model"], vocab, "The ", config["sample_length"], rng)
    say("sample", repr(text_sample))

    figures, graph, weights = pictures(text, len(train_ids), vocab, bigram, mlp, transformer, args.out)
    return {
        "python_version": version,
        "text_characters": len(text),
        "vocab_size": len(vocab),
        "uniform_loss": math.log(len(vocab)),
        "bigram_counted_loss": bigram["counted"],
        "bigram_trained_loss": bigram["trained"],
        "bigram_probs": bigram["probs"],
        "bigram_trained_probs": bigram["trained_probs"],
        "mlp_loss": mlp["loss"],
        "transformer_loss": transformer["loss"],
        "seconds": seconds,
        "sample": text_sample,
        "attention_weights": weights,
        "figures": figures,
        "graph": graph,
    }


# %% [markdown]
# ## Run the lesson

# %%
if __name__ == "__main__":
    results = main()

# %% [markdown]
# ## Exercises
#
# Write your answer where it says `None` and run the cell. Solutions:
# `solutions/09_language_model.py`.
#
# ### Exercise 1: the loss of a model that knows nothing
#
# Before any training, a model that gives each of the V characters of the text the same
# probability scores a certain cross-entropy whatever the text. Predict it, in nats per
# character, and write the number in `uniform_loss`; the check computes it with
# `F.cross_entropy` on logits that are all zero.

# %%
uniform_loss = None  # your prediction: a number


def exercise_uniform_loss(prediction):
    def computed():
        vocab_size = len(Vocabulary(load_text()))
        targets = np.arange(vocab_size)  # any characters at all: the loss is the same for each
        return F.cross_entropy(tg.zeros(vocab_size, vocab_size), targets).item()

    todo = "predict −ln P(next) when all V characters are equally likely (V: the lesson prints it), set uniform_loss"
    return check_prediction("the loss of a uniform guess", prediction, computed, todo)


if __name__ == "__main__":
    exercise_uniform_loss(uniform_loss)


# %% [markdown]
# ### Exercise 2: attention over a sliding window
#
# Some models let each position read only the last `window` characters (itself
# included), which keeps attention cheap on long texts. Write `window_mask(length, window)`:
# a bool array (length, length) that is True where query t may *not* read key s: the
# future (s > t), and now also the far past (s ≤ t − window). With window = length it is
# the lesson's causal mask.


# %%
def window_mask(length, window):
    """True where query t may not read key s: s > t, or s ≤ t − window."""
    return None  # your mask


def exercise_window_mask(mask_of):
    if mask_of is None or mask_of(6, 2) is None:
        return not_done("a sliding-window mask", "return a bool (length, length) array from window_mask")
    t, s = np.indices((6, 6))
    expected = (s > t) | (s <= t - 2)
    mask = np.asarray(mask_of(6, 2))
    if mask.shape != expected.shape or mask.dtype != bool:
        say("exercise a sliding-window mask", f"not yet: expected a bool (6, 6) array, got {mask.dtype} {mask.shape}")
        return False
    wrong = [(int(a), int(b)) for a, b in zip(*np.nonzero(mask != expected))]
    if wrong:
        say("exercise a sliding-window mask", f"not yet: (query t, key s) wrong at {wrong[:6]} (window 2, length 6)")
        return False
    say("exercise a sliding-window mask", "right: each position reads itself and the one before")
    return True


if __name__ == "__main__":
    exercise_window_mask(window_mask)


# %% [markdown]
# ### Exercise 3: the gradient through attention's softmax
#
# One query reads values v (T,) with weights p = softmax(s) of its scores s (T,): its
# output is y = Σⱼ pⱼ vⱼ. Derive ∂y/∂s and ∂y/∂v, and write them with NumPy in
# `attention_gradient`, which returns the pair. `tg.handcheck` compares them with
# autograd's. (Hint: ∂pⱼ/∂sᵢ = pⱼ(δᵢⱼ − pᵢ).)


# %%
def attention_gradient(scores, values):
    """(∂y/∂scores, ∂y/∂values), both (T,), for y = Σⱼ softmax(scores)ⱼ valuesⱼ."""
    return None  # your derivation


def exercise_attention_gradient(by_hand):
    scores = Tensor([0.5, -1.0, 2.0, 0.0], dtype=np.float64, requires_grad=True)
    values = Tensor([1.0, 3.0, -2.0, 0.5], dtype=np.float64, requires_grad=True)
    todo = "write (∂y/∂s, ∂y/∂v) in attention_gradient (hint: ∂y/∂v is p itself)"
    inputs = {"scores": scores, "values": values}
    return check_derivation("the gradient through softmax", lambda s, v: (s.softmax() * v).sum(), inputs, by_hand, todo)


if __name__ == "__main__":
    exercise_attention_gradient(attention_gradient)
