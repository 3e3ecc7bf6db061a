"""scikit-learn's common estimator checks on the neural calibrators (small nets, few epochs).

The checks that cannot apply are listed with the reason (``expected_failed_checks``):
they then run and must fail (an unexpected pass is reported as XPASS).
"""

from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks

from skcal.neural import (
    BayesianMDNCalibrator,
    EnsembleCalibrator,
    GDNCalibrator,
    MDNCalibrator,
    PointCalibrator,
)

SMALL = dict(max_epochs=2, batch_size=64, random_state=0, module__hidden_sizes=(8,))

ESTIMATORS = [
    GDNCalibrator(**SMALL),
    MDNCalibrator(n_components=2, **SMALL),
    PointCalibrator(**SMALL),
    BayesianMDNCalibrator(n_components=2, n_samples=3, **SMALL),
    EnsembleCalibrator(GDNCalibrator(**SMALL), n_members=2, random_state=0),
]

_SKORCH_INIT = (
    "skorch's NeuralNet.__init__ sets history_, initialized_ and virtual_params_ and stores routed "
    "parameters (module__hidden_sizes) as attributes"
)
_SKORCH_PRIVATE = (
    "skorch keeps _params_to_validate in __dict__, so get_params lists it and the check sets it to "
    "a number, which skorch's set_params then cannot use"
)
_MINIBATCH = (
    "shuffled minibatch training: a jet of weight 2 and two copies of it fall into different "
    "batches, so the fits differ (the weights are honoured in the loss: "
    "tests/neural/test_contract.py)"
)
_TOY = (
    "a 2-epoch, 8-unit net on the check's 200-sample toy data does not reach the R^2 that the "
    "check asks for"
)


def _expected_failures(estimator):
    if isinstance(estimator, EnsembleCalibrator):  # a plain estimator of skorch members
        return {
            "check_sample_weight_equivalence_on_dense_data": _MINIBATCH,
            "check_regressors_train": _TOY,
        }
    return {
        "check_no_attributes_set_in_init": _SKORCH_INIT,
        "check_set_params": _SKORCH_PRIVATE,
        "check_sample_weight_equivalence_on_dense_data": _MINIBATCH,
        "check_regressors_train": _TOY,
    }


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failures)
def test_sklearn_compatible(estimator, check):
    check(estimator)
