"""Pictures as files: the rules for paths and formats, and the checks for graphviz's
`dot` program, which turns DOT source into SVG, PNG or PDF.

Nothing here overwrites a file the caller did not name: where dot is missing, the DOT
source goes beside the target only when no file is there yet.
"""

import os
import pathlib
import stat
import struct
import zlib

from .picture import backward_steps, draw_graph

FORMATS = ("svg", "png", "pdf", "dot")
PNG_DPI = 120  # sharp on a slide; dot draws rasters at 96 dpi unless told

INSTALL_HINT = (
    "install graphviz's dot program: apt-get install graphviz (Debian/Ubuntu), "
    "brew install graphviz (macOS) or conda install graphviz"
)


NO_DOT = "graphviz's dot program was not found"


class DotNotFound(RuntimeError):
    """graphviz's dot program is not installed (or not on PATH)."""


def _check_format(format):
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {format!r}")


def is_special(path):
    """True for a path that exists but is neither a regular file nor a directory: a device
    (/dev/stdout is a link to one), a named pipe, a link. Such a path is written as it is."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:  # it does not exist (or cannot be looked at): an ordinary path
        return False
    return not stat.S_ISREG(mode) and not pathlib.Path(path).is_dir()


def _refuse_directory(path):
    if path.is_dir():
        example = str(path / "graph.svg")
        raise ValueError(f"{str(path)!r} is a directory: expected the path of a file to write, e.g. {example!r}")


def _target(path, format):
    """(the path to write, its format) by render's rules: the suffix names the format; with
    no suffix `format` (default svg) is appended, except to a special file (/dev/stdout),
    which is written as it is; a directory is a ValueError."""
    path = pathlib.Path(path)
    if format is not None:
        _check_format(format)
    _refuse_directory(path)
    suffix = path.suffix.lower().lstrip(".")
    if not suffix:
        format = format or "svg"
        if is_special(path):
            return path, format
        path = path.with_name(f"{path.name}.{format}")
        _refuse_directory(path)
        return path, format
    if suffix not in FORMATS:
        raise ValueError(
            f"the suffix .{suffix} of {str(path)!r} is not a format render writes: "
            f"expected one of {', '.join('.' + f for f in FORMATS)} or no suffix"
        )
    if format is not None and format != suffix:
        raise ValueError(f"format={format!r} contradicts the suffix of {str(path)!r}: give one or make them agree")
    return path, suffix


def picture_bytes(graph, format):
    """The picture of `graph` in `format`; "dot" is the DOT source, which needs no dot
    program; a PNG is drawn at PNG_DPI (120) and says so in its header. DotNotFound (a
    RuntimeError) where dot is missing, RuntimeError where it fails."""
    if format == "dot":
        return graph.source.encode("utf-8")
    import graphviz

    if format == "png":  # on a copy: the dpi attribute would scale an SVG drawn later too
        graph = graph.copy()
        graph.attr(dpi=str(PNG_DPI))
    try:
        picture = graph.pipe(format=format)
    except graphviz.ExecutableNotFound:
        raise DotNotFound(f"{NO_DOT}. To draw pictures, {INSTALL_HINT}") from None
    except graphviz.CalledProcessError as error:
        problem = (error.stderr or b"").decode("utf-8", "replace").strip().splitlines()
        raise RuntimeError(f"graphviz's dot could not draw the picture: {problem[-1] if problem else error}") from None
    return with_png_dpi(picture, PNG_DPI) if format == "png" else picture


def with_png_dpi(png, dpi):
    """`png` with a pHYs chunk saying `dpi` (dot writes none, so viewers and slides would
    guess 72 or 96) right after the IHDR chunk; unchanged if it has one already (before
    the image data, where the PNG standard puts it)."""
    signature_and_header = 8 + 4 + 4 + 13 + 4  # signature, then IHDR's length, type, data and CRC
    if b"pHYs" in png[: png.find(b"IDAT")]:
        return png
    pixels_per_metre = round(dpi / 0.0254)
    body = b"pHYs" + struct.pack(">IIB", pixels_per_metre, pixels_per_metre, 1)  # unit 1: the metre
    chunk = struct.pack(">I", len(body) - 4) + body + struct.pack(">I", zlib.crc32(body))
    return png[:signature_and_header] + chunk + png[signature_and_header:]


def _save_source(graph, path):
    """Write the DOT source beside `path`, with the suffix .dot, unless a file is there
    already; return a sentence that says which."""
    if is_special(path):
        return "Nothing was written."
    source = path.with_suffix(".dot")
    try:
        with open(source, "x", encoding="utf-8") as file:  # "x": never overwrite
            file.write(graph.source)
    except FileExistsError:
        return f"The DOT source was not written: {str(source)!r} exists already and was left as it was."
    return f"The DOT source is in {str(source)!r}."


def _write(graph, path, format):
    """Write `graph` to `path` as `format`. Where dot is missing, keep the DOT source
    beside it (see _save_source) and raise DotNotFound saying how to install graphviz."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        picture = picture_bytes(graph, format)
    except DotNotFound as error:
        raise DotNotFound(f"cannot render {str(path)!r}: {_save_source(graph, path)} {error}") from None
    with open(path, "wb") as file:  # open, not write_bytes: the same call for a file and a device
        file.write(picture)


def render(root, path, format=None, **draw_kwargs):
    """Draw the graph of `root` (draw_graph's keywords) into `path`; return the path written.

    The format ("svg", "png", "pdf" or "dot") comes from the path's suffix; with no suffix
    `format` (default "svg") is appended, except to a path that is a device or a pipe
    (/dev/stdout), which is written as it is. A format= that contradicts the suffix, an
    unknown suffix and a directory are ValueErrors. Where dot is missing (it draws every
    format but "dot"), the DOT source goes to the path with the suffix .dot, unless a file
    is there already (it is never overwritten), and a RuntimeError says which and how to
    install graphviz.
    """
    target, format = _target(path, format)
    _write(draw_graph(root, **draw_kwargs), target, format)
    return str(target)


def render_steps(root, directory, format="png", **draw_kwargs):
    """Write backward_steps(root) as numbered files directory/step_001.png, ...; return
    their paths. A graph of more than max_nodes tensors and ops is a ValueError, as in
    backward_steps."""
    _check_format(format)
    directory = pathlib.Path(directory)
    if directory.exists() and not directory.is_dir():
        raise ValueError(f"{str(directory)!r} is a file: expected a directory to write the frames into")
    frames = backward_steps(root, **draw_kwargs)
    width = max(3, len(str(len(frames))))
    paths = []
    for number, frame in enumerate(frames, start=1):
        path = directory / f"step_{number:0{width}d}.{format}"
        _write(frame, path, format)
        paths.append(str(path))
    return paths
