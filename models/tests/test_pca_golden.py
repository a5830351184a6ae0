"""The Python reference of src/lib/pca.ts that writes src/lib/__golden__/pca.json."""

import base64

import numpy as np

from toklip.pca_golden import pca3_reference, pca_colours_reference, rotated_case


def test_reference_matches_the_ts_hand_checked_case() -> None:
    # pca.test.ts 'handles dim < 3': one coordinate 0..3 -> 0, 85, 170, 255; missing components -> 128
    c = pca_colours_reference(np.array([[0.0], [1.0], [2.0], [3.0]], dtype=np.float32))
    assert c.tolist() == [[0, 128, 128], [85, 128, 128], [170, 128, 128], [255, 128, 128]]


def test_reference_axes_are_eigenvectors_with_the_sign_convention() -> None:
    case = rotated_case()
    x = np.frombuffer(base64.b64decode(case["vectors_b64"]), "<f4").reshape(case["size"], case["dim"])
    var, comps, proj = pca3_reference(x)
    cov = np.cov(x.astype(np.float64), rowvar=False)
    for c in range(3):
        np.testing.assert_allclose(cov @ comps[c], var[c] * comps[c], atol=1e-12)
        assert comps[c][np.argmax(np.abs(comps[c]))] > 0
    assert var[0] > var[1] > var[2]
    np.testing.assert_allclose(proj.var(axis=0, ddof=1), var, rtol=1e-5)
