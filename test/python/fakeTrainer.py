"""A stand-in for transformers.Trainer's evaluation calls, as far as evalpred.capture can see them: the
compute_metrics call comes from a method of an object with `args`, `state` and `compute_metrics`,
`is_in_train` is set during train(), and batch_eval_metrics passes `compute_result`."""
import numpy as np


class EvalPrediction:
    def __init__(self, predictions, label_ids, inputs=None, losses=None):
        self.predictions, self.label_ids, self.inputs, self.losses = predictions, label_ids, inputs, losses


class Args:
    per_device_eval_batch_size = 4
    eval_do_concat_batches = True
    batch_eval_metrics = False
    label_names = None
    eval_steps = 100


class State:
    global_step = 0
    epoch = None


class Trainer:
    def __init__(self, compute_metrics, batch_eval_metrics=False):
        self.args = Args()
        self.args.batch_eval_metrics = batch_eval_metrics
        self.state = State()
        self.compute_metrics = compute_metrics
        self.is_in_train = False

    def evaluation_loop(self, logits, labels, batch=None):
        """batch: {key: array over all rows}, handed per batch as the whole batch mapping (batch_eval_metrics' inputs)."""
        if not self.args.batch_eval_metrics:
            return self.compute_metrics(EvalPrediction(predictions=logits, label_ids=labels))
        metrics = None
        for start in range(0, len(labels), 4):
            last = start + 4 >= len(labels)
            inputs = None if batch is None else {k: v[start:start + 4] for k, v in batch.items()}
            metrics = self.compute_metrics(
                EvalPrediction(predictions=logits[start:start + 4], label_ids=labels[start:start + 4], inputs=inputs), compute_result=last)
        return metrics

    def train(self, evaluations):
        """evaluations: [(global_step, logits, labels)]"""
        self.is_in_train = True
        logged = []
        for step, logits, labels in evaluations:
            self.state.global_step, self.state.epoch = step, step / 100.0
            logged.append(self.evaluation_loop(logits, labels))
        self.is_in_train = False
        return logged


def evaluations(seed=0, steps=(100, 200, 300), n=40, classes=3):
    """Predictions that improve with the step, as a training run's would."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, size=n)
    out = []
    for k, step in enumerate(steps):
        logits = rng.normal(size=(n, classes)).astype(np.float32)
        logits[np.arange(n), labels] += 0.8 * k
        out.append((step, logits, labels))
    return out
