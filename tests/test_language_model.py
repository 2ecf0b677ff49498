"""Lesson 9, the language model: its attention is the library's scaled_dot_product_attention
(and PyTorch's), its models see no future, the counted and the trained bigram agree, and
its quick mode runs in time and prints what it claims."""

import ast
import contextlib
import io
import math
import re
import time
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import tinygrad_edu as tg
import tinygrad_edu.functional as F
from tinygrad_edu import Tensor

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
QUICK_SECONDS = 20  # the lessons' promise for --quick on two cores


@pytest.fixture(scope="module")
def lesson():
    """examples/09_language_model.py as a module."""
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(EXAMPLES))  # the lesson imports its helpers from _common
        from _common import load_lesson

        return load_lesson("09_language_model")


@pytest.fixture(scope="module")
def quick_run(lesson, tmp_path_factory):
    """The lesson's quick mode, in-process: its results, what it printed and its wall time
    (a module-scoped fixture cannot use capsys, so stdout is redirected here)."""
    out = tmp_path_factory.mktemp("lesson_09")
    printed = io.StringIO()
    with threadpool_limits(limits=1), contextlib.redirect_stdout(printed):  # one BLAS thread, as test_examples
        start = time.perf_counter()
        results = lesson.main(["--quick", "--out", str(out)])
        seconds = time.perf_counter() - start
    return {"results": results, "output": printed.getvalue(), "seconds": seconds}


def random_tensors(rng, *shapes):
    return [Tensor(rng.standard_normal(shape), requires_grad=True) for shape in shapes]


def gradients(output, inputs, grad_out):
    """The gradients of sum(output · grad_out) with respect to each input, as arrays."""
    for t in inputs:
        t.zero_grad()
    (output * Tensor(grad_out)).sum().backward()
    return [t.grad.numpy() for t in inputs]


# ---------------------------------------------------------------------- attention
def test_causal_attention_equals_scaled_dot_product_attention(lesson, rng):
    q, k, v = random_tensors(rng, (2, 3, 5, 4), (2, 3, 5, 4), (2, 3, 5, 4))
    grad_out = rng.standard_normal((2, 3, 5, 4))

    ours, weights = lesson.causal_attention(q, k, v)
    ours_grads = gradients(ours, [q, k, v], grad_out)
    library = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    library_grads = gradients(library, [q, k, v], grad_out)

    np.testing.assert_allclose(ours.numpy(), library.numpy(), atol=1e-12, err_msg="attention values differ")
    for name, mine, theirs in zip("qkv", ours_grads, library_grads):
        np.testing.assert_allclose(mine, theirs, atol=1e-12, err_msg=f"gradients of {name} differ")
    assert np.all(np.triu(weights.numpy(), k=1) == 0), "a position attends to a later one"
    np.testing.assert_allclose(weights.numpy().sum(axis=-1), 1, err_msg="attention weights must sum to 1")


def test_causal_attention_passes_gradcheck(lesson, rng):
    q, k, v = random_tensors(rng, (2, 4, 3), (2, 4, 3), (2, 4, 2))
    assert tg.gradcheck(lambda q, k, v: lesson.causal_attention(q, k, v)[0], (q, k, v))


def _split_heads(x, heads):
    batch, length, width = x.shape
    return x.reshape(batch, length, heads, width // heads).transpose(1, 2)


def test_attention_block_equals_one_built_on_scaled_dot_product_attention(lesson, rng):
    tg.manual_seed(0)
    block = lesson.CausalSelfAttention(8, heads=2)
    for p in block.parameters():
        p.data = p.data.astype(np.float64)
    (x,) = random_tensors(rng, (3, 5, 8))
    grad_out = rng.standard_normal((3, 5, 8))
    params = list(block.parameters())

    ours = block(x)
    ours_grads = gradients(ours, [x, *params], grad_out)
    q, k, v = (_split_heads(layer(x), 2) for layer in (block.query, block.key, block.value))
    out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    library = block.proj(out.transpose(1, 2).reshape(3, 5, 8))
    library_grads = gradients(library, [x, *params], grad_out)

    np.testing.assert_allclose(ours.numpy(), library.numpy(), atol=1e-12, err_msg="block outputs differ")
    names = ["x"] + [name for name, _ in block.named_parameters()]
    for name, mine, theirs in zip(names, ours_grads, library_grads):
        np.testing.assert_allclose(mine, theirs, atol=1e-12, err_msg=f"gradients of {name} differ")


@pytest.mark.oracle
def test_attention_block_matches_pytorch(lesson, torch, rng):
    tg.manual_seed(1)
    block = lesson.CausalSelfAttention(8, heads=4)
    x = rng.standard_normal((2, 6, 8))
    grad_out = rng.standard_normal((2, 6, 8))
    weights = {
        name: torch.tensor(p.numpy(), dtype=torch.float64, requires_grad=True) for name, p in block.named_parameters()
    }
    for p in block.parameters():
        p.data = p.data.astype(np.float64)

    x_ours = Tensor(x, requires_grad=True)
    ours = block(x_ours)
    ours_grads = gradients(ours, [x_ours, *block.parameters()], grad_out)

    def linear(t, name):
        return torch.nn.functional.linear(t, weights[f"{name}.weight"], weights[f"{name}.bias"])

    x_torch = torch.tensor(x, requires_grad=True)
    q, k, v = (linear(x_torch, name).reshape(2, 6, 4, 2).transpose(1, 2) for name in ("query", "key", "value"))
    out = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
    theirs = linear(out.transpose(1, 2).reshape(2, 6, 8), "proj")
    theirs.backward(torch.tensor(grad_out))

    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), atol=1e-10, err_msg="outputs differ from torch")
    torch_grads = [x_torch.grad] + [weights[name].grad for name, _ in block.named_parameters()]
    names = ["x"] + [name for name, _ in block.named_parameters()]
    for name, mine, theirs_grad in zip(names, ours_grads, torch_grads):
        np.testing.assert_allclose(mine, theirs_grad.numpy(), atol=1e-10, err_msg=f"gradient of {name} differs")


def test_attention_block_refuses_a_width_that_heads_do_not_divide(lesson):
    with pytest.raises(ValueError, match="width 10 is not a multiple of heads 4"):
        lesson.CausalSelfAttention(10, heads=4)


@pytest.mark.parametrize("model_name", ["Transformer", "Bigram"])
def test_no_position_sees_the_future(lesson, rng, model_name):
    tg.manual_seed(0)
    model = lesson.Transformer(11, context=6, width=8, heads=2, layers=2) if model_name == "Transformer" else None
    model = model or lesson.Bigram(11)
    ids = rng.integers(0, 11, size=(2, 6))
    changed = ids.copy()
    changed[:, 4:] = (ids[:, 4:] + 1) % 11  # a different future from position 4 on

    with tg.no_grad():
        before, after = model(ids).numpy(), model(changed).numpy()

    np.testing.assert_allclose(before[:, :4], after[:, :4], atol=1e-6, err_msg="an earlier position saw the future")
    assert not np.allclose(before[:, 4:], after[:, 4:]), "the changed positions should predict differently"


# ---------------------------------------------------------------------- the fused GELU
def test_fused_gelu_equals_its_plain_composition(lesson, rng):
    x0 = rng.standard_normal((3, 4, 5)) * 3
    x0[0, 0, :3] = (0.0, -30.0, 30.0)  # the middle and both far tails
    grad_out = rng.standard_normal(x0.shape)
    fused_x, plain_x = Tensor(x0, requires_grad=True), Tensor(x0, requires_grad=True)

    fused = lesson.GELU()(fused_x)
    plain = F.gelu(plain_x, approximate="tanh")
    fused_grad, plain_grad = gradients(fused, [fused_x], grad_out)[0], gradients(plain, [plain_x], grad_out)[0]

    np.testing.assert_allclose(fused.numpy(), plain.numpy(), rtol=1e-12, atol=1e-15, err_msg="GELU values differ")
    np.testing.assert_allclose(fused_grad, plain_grad, rtol=1e-12, atol=1e-15, err_msg="GELU gradients differ")
    assert fused.grad_fn is not None and type(fused.grad_fn).__name__ == "TanhGELU", "one node in the graph"


def test_fused_gelu_passes_gradcheck_and_gradgradcheck(lesson, rng):
    (x,) = random_tensors(rng, (2, 5))

    assert tg.gradcheck(lesson.TanhGELU.apply, (x,))
    assert tg.gradgradcheck(lesson.TanhGELU.apply, (x,)), "backward under create_graph must be differentiable"


def test_fused_gelu_keeps_float32(lesson):
    x = tg.randn(4, 8, requires_grad=True)

    y = lesson.TanhGELU.apply(x)
    y.sum().backward()

    assert y.dtype == np.float32 and x.grad.dtype == np.float32, "no hidden float64"


@pytest.mark.oracle
def test_fused_gelu_matches_pytorch(lesson, torch, rng):
    x0 = rng.standard_normal(50) * 4
    x = Tensor(x0, requires_grad=True)
    x_torch = torch.tensor(x0, requires_grad=True)

    y = lesson.TanhGELU.apply(x)
    y.sum().backward()
    y_torch = torch.nn.functional.gelu(x_torch, approximate="tanh")
    y_torch.sum().backward()

    np.testing.assert_allclose(y.numpy(), y_torch.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(x.grad.numpy(), x_torch.grad.numpy(), rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------------- bigrams
def test_bigram_counts_and_add_one_smoothing_by_hand(lesson):
    ids = np.array([0, 0, 1, 0, 1])  # pairs: (0, 0), (0, 1), (1, 0), (0, 1)

    counts = lesson.count_bigrams(ids, 3)
    probs = lesson.bigram_probabilities(counts)

    np.testing.assert_array_equal(counts, [[1, 2, 0], [1, 0, 0], [0, 0, 0]])
    # row 0: counts (1, 2, 0) + 1 = (2, 3, 1) over 6; an unseen character is uniform
    np.testing.assert_allclose(probs, [[2 / 6, 3 / 6, 1 / 6], [2 / 4, 1 / 4, 1 / 4], [1 / 3, 1 / 3, 1 / 3]])
    expected = -(math.log(2 / 6) + math.log(3 / 6) + math.log(2 / 4) + math.log(3 / 6)) / 4
    assert lesson.bigram_loss(probs, ids) == pytest.approx(expected), "the mean of −ln P(next | previous)"


def test_trained_bigram_learns_the_counted_probabilities(lesson):
    # a Markov chain with a known transition matrix: the trained table must find its counts
    rng = np.random.default_rng(0)
    transitions = np.array([[0.1, 0.6, 0.3], [0.5, 0.25, 0.25], [0.2, 0.2, 0.6]])
    ids = [0]
    for u in rng.random(20_000):
        ids.append(int(np.searchsorted(np.cumsum(transitions[ids[-1]]), u)))
    ids = np.array(ids)
    counts = lesson.count_bigrams(ids, 3)
    maximum_likelihood = counts / counts.sum(axis=1, keepdims=True)
    tg.manual_seed(0)
    model = lesson.Bigram(3)

    losses = lesson.train(model, lambda: lesson.random_windows(ids, 1, 512, rng), steps=300, lr=0.1, name="bigram")
    with tg.no_grad():
        learnt = F.softmax(model.table.weight).numpy()

    np.testing.assert_allclose(learnt, maximum_likelihood, atol=0.03, err_msg="softmax(table) should be N(a, b) / N(a)")
    assert np.mean(losses[-50:]) < np.mean(losses[:10]), "training should lower the loss"


def test_windows_pair_each_character_with_the_next(lesson, rng):
    ids = np.arange(100)

    inputs, targets = lesson.random_windows(ids, 5, 7, rng)
    mlp_inputs, mlp_targets = lesson.mlp_windows(ids, 3)
    t_inputs, t_targets = lesson.transformer_windows(ids, 8)

    assert inputs.shape == targets.shape == (7, 5)
    np.testing.assert_array_equal(targets, inputs + 1, err_msg="each target is the character after its input")
    np.testing.assert_array_equal(mlp_inputs[0], [0, 1, 2])
    assert mlp_targets[0] == 3 and len(mlp_targets) == 97
    assert t_inputs.shape == (12, 8), "99 predictable characters make 12 whole windows of 8"
    np.testing.assert_array_equal(t_targets, t_inputs + 1)


def test_sample_starts_with_the_prompt_and_stays_in_the_vocabulary(lesson):
    vocab = lesson.Vocabulary("hello world")
    tg.manual_seed(0)
    model = lesson.Transformer(len(vocab), context=4, width=8, heads=2, layers=1)

    text = lesson.sample(model, vocab, "he", 20, np.random.default_rng(0))

    assert text.startswith("he") and len(text) == 22
    assert set(text) <= set("hello world"), f"characters outside the vocabulary in {text!r}"


def test_tiny_head_graph_without_dot_says_so_in_one_line(lesson, tmp_path, monkeypatch, capsys):
    empty = tmp_path / "no_programs"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # graphviz finds no dot here

    path = lesson.draw_tiny_head(tmp_path)
    output = capsys.readouterr().out

    assert path is None
    lines = [line for line in output.splitlines() if line.startswith("graph of one attention head: ")]
    assert len(lines) == 1 and "dot" in lines[0], output
    assert (tmp_path / "attention_head_graph.dot").read_text().startswith("digraph"), "the DOT source is kept"


@pytest.mark.dot
def test_tiny_head_graph_shows_the_formulas(lesson, tmp_path, dot):
    path = lesson.draw_tiny_head(tmp_path)

    picture = Path(path).read_text(encoding="utf-8")
    for text in ("Softmax", "Where", "W_q", "attention weights"):
        assert text in picture, f"{text!r} missing from the picture of one attention head"
    assert "∂" in picture or "′" in picture or "'" in picture, "the ops' formulas are missing"


# ---------------------------------------------------------------------- the lesson in quick mode
def test_quick_mode_runs_in_time(quick_run):
    assert quick_run["seconds"] <= QUICK_SECONDS, f"--quick took {quick_run['seconds']:.1f} s"


def test_quick_mode_prints_its_labelled_lines(quick_run):
    output = quick_run["output"]

    assert re.search(r"^text: Python 3\.\d+\.\d+'s language reference: [\d,]+ characters, \d+ distinct$", output, re.M)
    number = r"\d+\.\d{3}"
    line = rf"^validation loss \(nats per character\): bigram {number}, MLP {number}, transformer {number}$"
    assert re.search(line, output, re.M), output
    sample = re.search(r"^sample: (.+)$", output, re.M)
    assert sample, output
    assert ast.literal_eval(sample.group(1)) == quick_run["results"]["sample"], "the sample is printed as a literal"
    assert quick_run["results"]["sample"].startswith("The ")
    assert re.search(r"^graph of one attention head: ", output, re.M), output
    assert re.search(rf"^bigram validation loss: counted {number}, trained {number}$", output, re.M), output


def test_quick_mode_results(quick_run):
    results = quick_run["results"]

    assert results["vocab_size"] > 50 and results["text_characters"] > 100_000
    assert results["uniform_loss"] == pytest.approx(math.log(results["vocab_size"]))
    # reliable in quick mode: the two bigrams agree, every model beats a uniform guess,
    # and the MLP's window of 8 characters beats one character
    assert abs(results["bigram_trained_loss"] - results["bigram_counted_loss"]) < 0.05, results
    for name in ("bigram_counted_loss", "mlp_loss", "transformer_loss"):
        assert results[name] < results["uniform_loss"] - 1, f"{name} is hardly better than guessing"
    assert results["mlp_loss"] < results["bigram_counted_loss"], "eight characters should beat one"
    weights = results["attention_weights"]
    np.testing.assert_allclose(weights.sum(axis=-1), 1, rtol=1e-5, err_msg="each query's weights sum to 1")
    for path in results["figures"]:
        assert Path(path).read_bytes().startswith(PNG_MAGIC), f"{path} is not a PNG"


def test_counted_bigram_on_python_311_text(quick_run):
    results = quick_run["results"]
    if not results["python_version"].startswith("3.11."):
        pytest.skip(f"the 2.32 nats are Python 3.11's text; this is {results['python_version']}")
    assert results["bigram_counted_loss"] == pytest.approx(2.32, abs=0.005)


# ---------------------------------------------------------------------- exercises
def test_exercises_not_done_say_what_to_do(lesson, capsys):
    results = [
        lesson.exercise_uniform_loss(lesson.uniform_loss),
        lesson.exercise_window_mask(lesson.window_mask),
        lesson.exercise_attention_gradient(lesson.attention_gradient),
    ]
    output = capsys.readouterr().out

    assert results == [False, False, False], "an unfinished exercise passed"
    assert output.count(": to do: ") == 3, output


def test_exercises_refuse_wrong_answers_and_say_what_differs(lesson, capsys):
    def causal_only(length, window):
        return np.triu(np.ones((length, length), dtype=bool), k=1)  # forgot the far past

    def values_forgotten(scores, values):
        p = np.exp(scores) / np.exp(scores).sum()
        return p * (1 - p), p  # the diagonal of the softmax's Jacobian only

    vocab_size = len(lesson.Vocabulary(lesson.load_text()))

    assert lesson.exercise_uniform_loss(1.0) is False
    assert lesson.exercise_window_mask(causal_only) is False
    assert lesson.exercise_attention_gradient(values_forgotten) is False
    output = capsys.readouterr().out
    assert f"you predicted 1, the library computes {math.log(vocab_size):.4g}" in output, output
    assert "(query t, key s) wrong at [(2, 0)" in output, output
    assert "the derivation by hand differs" in output, output


def test_exercises_accept_right_answers(lesson):
    def window_mask(length, window):
        t, s = np.indices((length, length))
        return (s > t) | (t - s >= window)

    def attention_gradient(scores, values):
        p = np.exp(scores - scores.max())
        p /= p.sum()
        return p * (values - p @ values), p  # ∂y/∂sᵢ = pᵢ(vᵢ − y)

    vocab_size = len(lesson.Vocabulary(lesson.load_text()))
    assert lesson.exercise_uniform_loss(math.log(vocab_size)) is True
    assert lesson.exercise_window_mask(window_mask) is True
    assert lesson.exercise_attention_gradient(attention_gradient) is True
