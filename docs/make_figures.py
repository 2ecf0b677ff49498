"""Make the figures of docs/: run every lesson of examples/ and copy one figure of each here.

    python docs/make_figures.py [--quick]

The lessons write into a temporary folder; docs/lesson_NN_*.png are the copies the
README shows. Without --quick the lessons run in full (about a minute).
"""

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent / "examples"))

from _common import load_lesson  # noqa: E402  (examples/ is on the path only now)

# lesson -> (the figure it writes, the name it gets in docs/)
FIGURES = {
    "01_seed_walkthrough": ("step_vs_sigmoid.png", "lesson_01_sigmoid.png"),
    "02_logistic_regression": ("logistic_regression.png", "lesson_02_logistic_regression.png"),
    "03_nonlinear_regions": ("nonlinear_regions.png", "lesson_03_nonlinear_regions.png"),
    "04_softmax_multiclass": ("softmax_multiclass.png", "lesson_04_softmax_multiclass.png"),
    "05_loss_functions": ("loss_functions.png", "lesson_05_loss_functions.png"),
    "06_computational_graph": ("logistic_regression_graph.png", "lesson_06_computational_graph.png"),
    "07_gradient_checking": ("gradient_checking.png", "lesson_07_gradient_checking.png"),
    "08_convolution": ("lenet_on_mnist.png", "lesson_08_convolution.png"),
    "09_language_model": ("language_model_losses.png", "lesson_09_language_model.png"),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description="Run the lessons and copy one figure of each into docs/.")
    parser.add_argument("--quick", action="store_true", help="run the lessons in quick mode")
    args = parser.parse_args(argv)
    written = []
    with tempfile.TemporaryDirectory() as out:
        for lesson, (figure, name) in FIGURES.items():
            load_lesson(lesson).main(["--out", out] + (["--quick"] if args.quick else []))
            written.append(shutil.copyfile(Path(out) / figure, DOCS / name))
    for path in written:
        print(f"{path}: {path.stat().st_size / 1024:.0f} KB")
    return written


if __name__ == "__main__":
    main()
