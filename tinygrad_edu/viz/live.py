"""LiveGraph: watch a model learn. Every few steps of a training loop, the graph of that
step (values, gradients, gradient-flow colours) beside the loss curve so far: redrawn in
place in a notebook, written as numbered frames in a script. matplotlib is imported when
a frame is drawn.
"""

import io
import pathlib

import numpy as np

from ..tensor import Tensor
from .files import INSTALL_HINT, NO_DOT, PNG_DPI, DotNotFound, picture_bytes
from .labels import names_from
from .notebook import in_notebook, require
from .picture import draw_graph

FRAME_FORMATS = ("png", "svg", "pdf")
LOSS_PANEL = (4.5, 3.4)  # inches: the loss curve's axes
LARGEST_GRAPH = (9.0, 8.0)  # inches: dot scales a larger graph down, so that a frame fits a slide


class LiveGraph:
    """The graph of a training step beside the loss curve, redrawn as a loop trains.

        view = tg.viz.LiveGraph(every=10, params=dict(model.named_parameters()))
        for step in range(epochs):
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            view.update(loss)   # after backward (the gradients), before step (which changes the parameters)
            opt.step()

    Every `every`-th call of update draws the graph of that loss (draw_graph, top to
    bottom, tensors named from params=) beside the curve of every loss given so far. In a
    notebook the picture is redrawn in place; elsewhere it is written to
    directory/step_000010.png, step_000020.png, ... (format "png", "svg" or "pdf"), and the
    paths are listed in .frames. The losses are in .losses. Nothing changes a .grad: the
    gradients shown are computed by the picture's own pass of the chain rule.

    Where graphviz's dot is missing, the frames show the loss curve alone, and the first
    frame says so in one printed line. Without matplotlib, update raises a RuntimeError
    naming the extra that brings it.
    """

    def __init__(self, every=10, params=None, directory="frames", format="png"):
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be a positive int (redraw every `every` steps), got {every!r}")
        if format not in FRAME_FORMATS:
            raise ValueError(f"format must be one of {', '.join(FRAME_FORMATS)}, got {format!r}")
        names_from(params)  # a params= that is not a dict of name to tensor is refused now, not at step 10
        self.every, self.params, self.format = every, params, format
        self.directory = pathlib.Path(directory)
        self.frames = []
        self.losses = []
        self._display = None  # the notebook output that each frame replaces
        self._said_no_dot = False

    def update(self, loss):
        """Record `loss` (a Tensor of one element, after backward); every `every`-th call,
        draw that step's graph beside the loss curve. Returns the path of the frame written
        (in a script), else None."""
        if not isinstance(loss, Tensor):
            raise TypeError(f"LiveGraph.update expects the loss, a Tensor of one element, got {type(loss).__name__}")
        if loss.size != 1:
            raise ValueError(f"LiveGraph.update expects the loss, a Tensor of one element, got shape {loss.shape}")
        self.losses.append(float(loss.item()))
        if len(self.losses) % self.every:
            return None
        if in_notebook():
            self._show(self._frame(loss, "png"))
            return None
        return self._write(self._frame(loss, self.format))

    def _write(self, picture):
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"step_{len(self.losses):06d}.{self.format}"
        path.write_bytes(picture)
        self.frames.append(str(path))
        return str(path)

    def _show(self, png):
        """Show the frame in the notebook, in place of the one before."""
        from IPython.display import Image, display

        if self._display is None:
            self._display = display(Image(data=png), display_id=True)
        else:
            self._display.update(Image(data=png))

    def _graph_png(self, loss):
        """The graph of `loss` as a PNG no larger than LARGEST_GRAPH, or None where dot is
        missing (said once)."""
        graph = draw_graph(loss, params=self.params, rankdir="TB")
        graph.attr(size=f"{LARGEST_GRAPH[0]},{LARGEST_GRAPH[1]}")  # dot scales a larger graph down
        try:
            return picture_bytes(graph, "png")
        except DotNotFound:
            if not self._said_no_dot:
                print(f"LiveGraph: {NO_DOT}, so the frames show the loss alone; to draw the graph, {INSTALL_HINT}")
                self._said_no_dot = True
            return None

    def _frame(self, loss, format):
        """The frame of this step: the graph (where dot draws it) beside the loss curve."""
        require("matplotlib", "tg.viz.LiveGraph")
        from matplotlib.figure import Figure  # not pyplot: a frame is drawn to bytes, never shown by itself
        from matplotlib.image import imread

        graph_png = self._graph_png(loss)
        graph = imread(io.BytesIO(graph_png), format="png") if graph_png is not None else np.zeros((0, 0))
        graph_width, graph_height = graph.shape[1] / PNG_DPI, graph.shape[0] / PNG_DPI  # inches
        width = graph_width + LOSS_PANEL[0] + 1.3  # the loss axes' labels take about an inch
        height = max(graph_height + 0.2, LOSS_PANEL[1] + 1.0)  # and its title and x label another
        figure = Figure(figsize=(width, height), dpi=PNG_DPI)
        if graph.size:  # pixel for pixel, as dot drew it: resampling would blur it and take seconds
            figure.figimage(graph, xo=round(0.1 * PNG_DPI), yo=round((height - graph_height) / 2 * PNG_DPI))
        left, bottom = graph_width + 0.9, (height - LOSS_PANEL[1]) / 2  # beside the graph, halfway up
        loss_axes = figure.add_axes((left / width, bottom / height, LOSS_PANEL[0] / width, LOSS_PANEL[1] / height))
        self._plot_losses(loss_axes)
        buffer = io.BytesIO()
        figure.savefig(buffer, format=format, dpi=PNG_DPI)
        return _in_256_colours(buffer.getvalue()) if format == "png" else buffer.getvalue()

    def _plot_losses(self, axes):
        from matplotlib.ticker import MaxNLocator

        steps = range(1, len(self.losses) + 1)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))  # steps are whole numbers
        axes.plot(steps, self.losses, color="#2b83ba", linewidth=1.5)
        axes.plot([len(self.losses)], [self.losses[-1]], "o", color="#d7191c")
        axes.set_xlabel("step (calls of update)")
        if min(self.losses) > 0:  # a log scale shows the late steps' progress, which a linear one flattens
            axes.set_yscale("log")
        axes.set_ylabel("loss")
        axes.set_title(f"loss at step {len(self.losses)}: {self.losses[-1]:.4g}", fontsize=10)
        axes.grid(alpha=0.3)


def _in_256_colours(png):
    """`png` in 256 colours: a frame has few, so it looks the same in a third of the bytes
    (a notebook carries its last frame)."""
    from PIL import Image  # matplotlib's own dependency

    image = Image.open(io.BytesIO(png)).convert("RGB")
    buffer = io.BytesIO()
    fewer = image.quantize(256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)  # the quickest
    fewer.save(buffer, format="png", dpi=(PNG_DPI, PNG_DPI))
    return buffer.getvalue()
