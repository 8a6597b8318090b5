"""What a Korean student sees of nstlib inside a lesson: figure titles and labels, the lines that measuring cells
and the setup cell print, the studio's and the explorer's labels, and the warnings and errors a lesson can meet.
With the language Korean each comes out in Hangul, carrying the numbers the code formatted; in English it is the
text it always was. The catalogue itself (every message translated, with the same fields) is test_i18n's."""

import io
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
import torch  # noqa: E402

from nstlib import i18n, images  # noqa: E402
from nstlib.core import urls  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
HANGUL = re.compile("[\uac00-\ud7a3]")


@pytest.fixture
def korean():
    """Korean for one test, matplotlib's settings put back afterwards."""
    with matplotlib.rc_context():
        i18n.set_language("ko")
        yield
        i18n.set_language(None)


# --- warnings and errors a lesson can meet


def test_an_image_too_small_is_explained_in_korean(korean):
    with pytest.raises(images.ImageError) as error:
        images.load(torch.rand(3, 10, 20))
    assert HANGUL.search(str(error.value)) and "20x10 px" in str(error.value) and "size=224" in str(error.value)
    i18n.set_language("en")
    with pytest.raises(images.ImageError, match=r"^the image is 20x10 px, too small for the network"):
        images.load(torch.rand(3, 10, 20))


def test_size_warnings_and_bad_inputs_speak_korean(korean, tmp_path):
    with pytest.warns(UserWarning) as caught:
        images.fit((2000, 1000))
    assert HANGUL.search(str(caught[0].message)) and "2000x1000 px" in str(caught[0].message)
    for make in (lambda: images.load(tmp_path / "missing.png"), lambda: images.resolve("no-such-photo"),
                 lambda: images.load(io.BytesIO(b"not an image")), lambda: images.load(torch.rand(2, 3, 40, 40)),
                 lambda: urls.download("ftp://example.org/a.png")):
        with pytest.raises(images.ImageError) as error:
            make()
        assert HANGUL.search(str(error.value)), str(error.value)
    with pytest.raises(images.ImageError, match="전달한 BytesIO"):
        images.load(io.BytesIO(b"not an image"))
