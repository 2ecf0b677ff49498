"""A short tour of tinygrad_edu: what `make demo` runs, in about half a minute.

    python examples/demo.py [--out DIR]

1. the seed of a neural network: sigmoid, softmax, maximum likelihood, cross-entropy,
   and one gradient-descent step checked against autograd (lesson 1);
2. logistic regression by gradient descent and by the perceptron algorithm, then on
   scikit-learn's breast-cancer data, with a progress bar (lesson 2);
3. the computational graph of a logistic regression, with its values, gradients and
   formulas, and the backward pass frame by frame (lesson 6);

then the list of files it wrote. Each part is a lesson of examples/ run in quick mode:
run the lessons themselves (without --quick) for the full story.
"""

import time

from _common import load_lesson, parse_args, say

TOUR = (
    ("01_seed_walkthrough", "the seed of a neural network"),
    ("02_logistic_regression", "logistic regression and the perceptron"),
    ("06_computational_graph", "the computational graph"),
)


def files_of(results):
    """Every file a lesson reports having written (figures, graph pictures, frames)."""
    return [str(path) for key in ("figures", "files", "steps") for path in results.get(key, [])]


def main(argv=None):
    args = parse_args(__doc__, argv)
    start = time.perf_counter()
    results, written = {}, []
    for number, (name, title) in enumerate(TOUR, start=1):
        print(f"\n== {number}. {title} (examples/{name}.py) ==", flush=True)
        results[name] = load_lesson(name).main(["--quick", "--out", str(args.out)])
        written += files_of(results[name])

    seed = results["01_seed_walkthrough"]
    print("\n== summary ==")
    say("softmax of scores (2, 1, 0)", seed["softmax"])
    say("maximum likelihood P(all)", f"model A {seed['likelihood_model_a']:g}, model B {seed['likelihood_model_b']:g}")
    say("cross-entropy of the three doors", f"{seed['cross_entropy_doors']:.2f}")
    cancer = results["02_logistic_regression"]
    say(
        "breast cancer test accuracy",
        f"tinygrad_edu {cancer['breast_cancer_accuracy']:.3f}, "
        f"scikit-learn LogisticRegression {cancer['breast_cancer_accuracy_sklearn']:.3f}",
    )
    say("files written", len(written))
    for path in written:
        print(f"  {path}")
    say("demo time", f"{time.perf_counter() - start:.1f} s")
    return {"lessons": results, "files": written}


if __name__ == "__main__":
    main()
