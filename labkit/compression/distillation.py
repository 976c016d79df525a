"""Knowledge distillation's math: softmax with a temperature and the distillation loss."""

from __future__ import annotations

from typing import Any

import numpy as np

from labkit.validate import check_array, check_fraction, check_real


def _logits(logits: Any, name: str) -> np.ndarray:
    return check_array(logits, name, ndim=2, hint="pass logits of shape (batch, classes)"
                       ).astype(np.float64)


def softmax(logits: Any, temperature: float = 1.0) -> np.ndarray:
    """``softmax(logits / temperature)`` along the last axis, computed stably.

    A temperature above 1 softens the distribution: the small probabilities of the wrong
    classes — which classes the teacher finds similar — become visible.

    Example
    -------
    >>> softmax(np.array([[2.0, 0.0]]), temperature=2.0).round(4)
    array([[0.7311, 0.2689]])
    """
    z = _logits(logits, "logits") / check_real(temperature, "temperature", low=0,
                                                include="high")
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def _log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def distillation_loss(labels: Any, student_logits: Any, teacher_logits: Any,
                      temperature: float, alpha: float) -> float:
    """Hinton et al.'s (2015) distillation loss, averaged over the batch, in nats.

    ``alpha * CE(labels, softmax(s)) + (1 - alpha) * T² * KL(softmax(t / T) || softmax(s / T))``
    with ``s`` the student's and ``t`` the teacher's logits and ``T`` the temperature.
    ``CE`` is the cross-entropy with the true labels at temperature 1, ``KL(p || q) =
    sum p * (log p - log q)``: the teacher's soft targets ``p`` weight the student's
    log-probabilities. ``T²`` keeps the soft term's gradients as large as the hard term's
    when ``T`` changes. Natural logarithms throughout.

    Parameters
    ----------
    labels : int array ``(batch,)``
    student_logits, teacher_logits : float arrays ``(batch, classes)``
    temperature : float > 0
    alpha : float in [0, 1]
        Weight of the hard-label term.

    Example
    -------
    >>> s, t = np.array([[1.0, 0.0]]), np.array([[1.0, 0.0]])
    >>> round(distillation_loss([0], s, t, temperature=1.0, alpha=1.0), 4)  # CE only
    0.3133
    >>> distillation_loss([0], s, t, temperature=3.0, alpha=0.0)  # same logits: KL = 0
    0.0
    """
    s = _logits(student_logits, "student_logits")
    t = _logits(teacher_logits, "teacher_logits")
    if s.shape != t.shape:
        raise ValueError(f"student_logits and teacher_logits must have the same shape, got "
                         f"{s.shape} and {t.shape}")
    y = check_array(labels, "labels", shape=(s.shape[0],), kinds="iu",
                    hint="pass integer class labels, one per row of the logits")
    if y.min() < 0 or y.max() >= s.shape[1]:
        raise ValueError(f"labels must be class indices in [0, {s.shape[1]}), got values from "
                         f"{y.min()} to {y.max()}")
    temperature = check_real(temperature, "temperature", low=0, include="high")
    alpha = check_fraction(alpha, "alpha", interval="[0, 1]")
    hard = -_log_softmax(s)[np.arange(len(y)), y]
    log_p, log_q = _log_softmax(t / temperature), _log_softmax(s / temperature)
    soft = np.sum(np.exp(log_p) * (log_p - log_q), axis=-1)
    return float(np.mean(alpha * hard + (1 - alpha) * temperature**2 * soft))
