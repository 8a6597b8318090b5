"""The style studio (lesson 6): lesson 4's optimisation and lesson 5's fast models behind a few widgets.

``StyleStudio()`` shows content and style pickers (samples, the project's textures, uploads, image addresses),
sliders for the loss weights, size and steps, Run and Stop buttons, a preview that updates during the run, and
Save. The work runs in a background thread so that Stop (and the rest of the notebook) stays responsive.
Every control can also be driven from code (``studio.style_weight.value = 10; studio.run(wait=True)``),
which is how the tests use it; with no front end, ``show()`` runs the defaults once and shows the result.

Labels, buttons and status lines speak the current language (``i18n``) of the moment the studio is built or
the line is written; the choices the code reads (the mode, the image sources) show translated labels over
their English values, so ``studio.mode.value`` is "optimise" or "fast model" in every language.
"""

from __future__ import annotations

import base64
import html
import io
import json
import threading
import time
from pathlib import Path

import torch

from . import config, env, fast, images, style, textures
from .core.errors import UsageError
from .explorer import interactive_available, labelled
from .i18n import _

UPLOAD = "(uploaded file)"
WEBCAM = "(webcam snapshot)"
ADDRESS = "(image address)"

#: The studio's two methods, as ``studio.mode.value`` has them in every language.
OPTIMISE, FAST = "optimise", "fast model"

# Colab's browser bridge runs this in the page: ask for the camera, show the video, take one frame on click.
_SNAPSHOT_JS = """
async function snapshot(quality, label) {
  const box = document.createElement('div');
  const button = document.createElement('button');
  button.textContent = label;
  const video = document.createElement('video');
  video.style.display = 'block';
  const stream = await navigator.mediaDevices.getUserMedia({video: true});
  box.appendChild(video); box.appendChild(button);
  document.body.appendChild(box);
  video.srcObject = stream;
  await video.play();
  await new Promise((resolve) => button.onclick = resolve);
  const canvas = document.createElement('canvas');
  canvas.width = video.videoWidth; canvas.height = video.videoHeight;
  canvas.getContext('2d').drawImage(video, 0, 0);
  stream.getVideoTracks()[0].stop();
  box.remove();
  return canvas.toDataURL('image/jpeg', quality);
}
"""


def webcam_available() -> bool:
    """Snapshots need a bridge from Python to the browser's camera: Colab has one; JupyterLab has none."""
    return env.in_colab()


def webcam_snapshot(quality: float = 0.9):
    """One photo from the webcam (the browser asks for permission first) as an RGB PIL image. Colab only."""
    try:
        from google.colab.output import eval_js  # Colab only
    except ImportError:
        raise RuntimeError(_("a webcam snapshot needs Colab's browser bridge; here, take a photo with your camera "
                             "app and choose it with the Upload button")) from None
    data_url = eval_js(_SNAPSHOT_JS + f"snapshot({float(quality)}, {json.dumps(_('Take the photo'))})")
    if not isinstance(data_url, str) or "," not in data_url:
        raise RuntimeError(_("the browser returned no photo (was the camera permission refused?)"))
    return images.load(io.BytesIO(base64.b64decode(data_url.split(",", 1)[1])))


def _png(image) -> bytes:
    buffer = io.BytesIO()
    (image if hasattr(image, "save") else images.to_pil(image)).save(buffer, format="PNG")
    return buffer.getvalue()


def upload_contents(value) -> list[tuple[str, bytes]]:
    """(file name, bytes) for each file in an ipywidgets ``FileUpload.value``, in either version's shape.

    ipywidgets 8 (JupyterLab, ``pip install nstlib``): a tuple of dicts with 'name' and 'content' (a
    memoryview). ipywidgets 7 (Colab's preinstalled 7.7.1): a dict from file name to a dict with 'metadata'
    and 'content' (bytes).
    """
    if not value:
        return []
    if isinstance(value, dict):
        items = [(name, item) for name, item in value.items()]
    elif isinstance(value, (tuple, list)):
        items = [(item.get("name", "upload"), item) for item in value]
    else:
        raise TypeError(f"unexpected FileUpload value of type {type(value).__name__}: expected a tuple (ipywidgets "
                        f"8) or a dict (ipywidgets 7)")
    out = []
    for name, item in items:
        content = item["content"]
        out.append((name, content.tobytes() if hasattr(content, "tobytes") else bytes(content)))
    return out


def _uploaded_image(upload):
    """The last file of an ipywidgets FileUpload (ipywidgets 7 or 8) as a PIL image (``images.load``'s checks
    and messages, with the file's own name in them)."""
    files = upload_contents(upload.value)
    if not files:
        raise UsageError(_("choose a file with the upload button first"))
    name, data = files[-1]
    try:
        return images.load(io.BytesIO(data))
    except images.ImageError as error:
        given, uploaded = images.given(io.BytesIO()), _("the uploaded file {name}").format(name=repr(name))
        raise images.ImageError(str(error).replace(given, uploaded)) from None


def _addressed_image(text):
    """The image at the address typed into the studio (downloaded once, ``images.resolve``)."""
    value = (text.value or "").strip()
    if not value:
        raise UsageError(_("type or paste an image address (https://...) into the address box first"))
    if not images.is_url(value):
        raise UsageError(_("{value} is not an image address: it must start with https:// or http://").format(
            value=repr(value)))
    return images.load(images.resolve(value))


class StyleStudio:
    """An interactive style-transfer studio; ``display(studio)`` or ``studio.show()`` in a notebook."""

    def __init__(self, size: int | None = None, steps: int | None = None, weights=None, device=None,
                 preview_every: int = 5, out_dir: str | Path = "out"):
        from ipywidgets import (  # optional: only a live studio needs it
            HTML,
            Button,
            Dropdown,
            FileUpload,
            FloatLogSlider,
            HBox,
            Image,
            IntSlider,
            Layout,
            Text,
            ToggleButtons,
            VBox,
        )

        self.weights, self.device, self.preview_every = weights, device, preview_every
        self.out_dir = Path(out_dir)
        self.result: torch.Tensor | None = None
        self.record = None
        self.runs = 0
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()

        look = {"style": {"description_width": "140px"}, "layout": Layout(width="400px")}
        upload_layout = {"layout": Layout(width="200px", margin="0 0 0 144px")}
        shown = _shown()  # the choices' labels; the widgets' values stay the English ones the code reads
        sources = [UPLOAD, ADDRESS] + ([WEBCAM] if webcam_available() else [])
        address = _("or paste an image address: https://...")
        self.content = Dropdown(options=labelled(images.sample_names() + sources, shown), value="cat",
                                description=_("Content"), **look)
        self.content_upload = FileUpload(accept="image/*", multiple=False, description=_("Upload content"),
                                         **upload_layout)
        self.content_address = Text(placeholder=address, description=_("Address"), **look)
        self.style = Dropdown(options=labelled(textures.names() + images.sample_names() + [UPLOAD, ADDRESS], shown),
                              value=textures.DEFAULT, description=_("Style"), **look)
        self.style_upload = FileUpload(accept="image/*", multiple=False, description=_("Upload style"),
                                       **upload_layout)
        self.style_address = Text(placeholder=address, description=_("Address"), **look)
        models = fast.available()
        self.mode = ToggleButtons(options=labelled([OPTIMISE, FAST], shown), value=OPTIMISE,
                                  description=_("Method"), style=look["style"])
        self.model = Dropdown(options=models, value=models[0] if models else None, description=_("Fast model"),
                              **look)
        self.style_weight = FloatLogSlider(value=style.STYLE_WEIGHT, base=10, min=-1, max=2, step=0.1,
                                           description=_("Style weight"), **look)
        self.content_weight = FloatLogSlider(value=style.CONTENT_WEIGHT, base=10, min=-1, max=1, step=0.1,
                                             description=_("Content weight"), **look)
        self.tv_weight = FloatLogSlider(value=style.TV_WEIGHT, base=10, min=-2, max=2, step=0.1,
                                        description=_("TV weight"), **look)
        self.size = IntSlider(value=size or config.pick(256, 64), min=64, max=768, step=32, description=_("Size"),
                              **look)
        self.steps = IntSlider(value=steps or config.pick(60, 3), min=1, max=400, description=_("Steps"), **look)
        self.run_button = Button(description=_("Run"), button_style="success", icon="play")
        self.stop_button = Button(description=_("Stop"), button_style="danger", icon="stop", disabled=True)
        self.save_button = Button(description=_("Save"), icon="download", disabled=True)
        self.status = HTML(value=_("Choose a content and a style, then press Run."))
        self.preview = Image(format="png", layout=Layout(width="512px", height="auto", object_fit="contain",
                                                         border="1px solid #ccc"))
        self.preview.value = _png(images.resize(self.content_image(), 512))

        self.run_button.on_click(lambda _: self.run())
        self.stop_button.on_click(lambda _: self.stop())
        self.save_button.on_click(lambda _: self._save_clicked())
        self.mode.observe(lambda _: self._sync_mode(), names="value")
        self._sync_mode()
        controls = VBox([self.content, self.content_upload, self.content_address, self.style, self.style_upload,
                         self.style_address, self.mode, self.model,
                         self.style_weight, self.content_weight, self.tv_weight, self.size, self.steps,
                         HBox([self.run_button, self.stop_button, self.save_button]), self.status])
        self.widget = HBox([controls, self.preview])

    # ------------------------------------------------------------------------------------------- inputs

    def content_image(self):
        if self.content.value == WEBCAM:
            return webcam_snapshot()
        if self.content.value == UPLOAD:
            return _uploaded_image(self.content_upload)
        if self.content.value == ADDRESS:
            return _addressed_image(self.content_address)
        return images.load(images.resolve(self.content.value))

    def style_image(self):
        if self.style.value == UPLOAD:
            return _uploaded_image(self.style_upload)
        if self.style.value == ADDRESS:
            return _addressed_image(self.style_address)
        return images.load(images.resolve(self.style.value))

    def _sync_mode(self):
        fast_mode = self.mode.value == FAST
        self.model.disabled = not fast_mode
        for control in (self.style, self.style_upload, self.style_address, self.style_weight, self.content_weight,
                        self.tv_weight, self.steps):
            control.disabled = fast_mode

    # ------------------------------------------------------------------------------------------- running

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def run(self, wait: bool = False):
        """Start a run in the background (``wait=True``: block until it ends). Returns the thread."""
        if self.running:
            self.status.value = _("Already running: press Stop first.")
            return self._thread
        self._stop.clear()
        self.run_button.disabled, self.stop_button.disabled = True, False
        self._thread = threading.Thread(target=self._work, name="nstlib-studio", daemon=True)
        self._thread.start()
        if wait:
            self._thread.join()
        return self._thread

    def stop(self):
        """Ask the run to stop after the current step; the best image so far is kept."""
        self._stop.set()
        self.status.value = _("Stopping after this step...")

    def _show(self, image):
        self.preview.value = _png(image)

    def _work(self):
        start = time.perf_counter()
        try:
            content = self.content_image()
            if self.mode.value == FAST:
                net = fast.load(self.model.value, device=self.device)
                result = fast.stylize(net, content, size=self.size.value)
                self.record = None
                what = _("fast model '{model}'").format(model=self.model.value)
            else:
                def on_step(state):
                    if self.preview_every and state.record.steps % self.preview_every == 0:
                        self._show(state.image)
                        self.status.value = _("step {step}/{steps}, loss {loss}").format(
                            step=state.record.steps, steps=self.steps.value, loss=f"{state.record.total[-1]:.3g}")
                    return self._stop.is_set()

                out = style.stylize(content, self.style_image(), size=self.size.value, steps=self.steps.value,
                                    style_weight=self.style_weight.value, content_weight=self.content_weight.value,
                                    tv_weight=self.tv_weight.value, weights=self.weights, device=self.device,
                                    progress=False, callback=on_step)
                result, self.record = out.image, out.record
                what = _("{steps} steps ({stopped})").format(steps=out.record.steps,
                                                             stopped=style.stop_reason(out.record.stopped))
            with self._lock:
                self.result = result.detach().cpu()
                self.runs += 1
            self._show(self.result)
            self.status.value = _("Done: {what} in {seconds} s. Save keeps it.").format(
                what=what, seconds=f"{time.perf_counter() - start:.1f}")
        except Exception as error:  # shown in the studio, not lost in a background thread
            self.status.value = _error_html(error)
        finally:
            self.run_button.disabled, self.stop_button.disabled = False, True
            self.save_button.disabled = self.result is None

    # ------------------------------------------------------------------------------------------- output

    def save(self, path: str | Path | None = None) -> Path:
        """Write the last result as a PNG (default: out/studio-<time>.png); returns the path."""
        if self.result is None:
            raise RuntimeError(_("nothing to save yet: press Run first"))
        path = Path(path) if path else self.out_dir / f"studio-{time.strftime('%Y%m%d-%H%M%S')}.png"
        images.save(self.result, path)
        self.status.value = _("Saved {path}").format(path=f"<code>{path}</code>")
        return path

    def _save_clicked(self):
        """The Save button: a problem is shown in the studio, never raised into the front end's log."""
        try:
            self.save()
        except Exception as error:  # noqa: BLE001 - shown to the student
            self.status.value = _error_html(error)

    def show(self):
        """The studio in a live notebook; with no front end (nbval, smoke mode) one run of the defaults."""
        from IPython.display import display

        if interactive_available():
            display(self.widget)
            return self
        self.run(wait=True)
        display(images.to_pil(self.result) if self.result is not None else self.status.value)
        return self

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)


def _error_html(error: Exception) -> str:
    """What went wrong, for the status line: a user's mistake in plain words, anything else with its type."""
    what = str(error) if isinstance(error, UsageError) else f"{type(error).__name__}: {error}"
    return f"<b>{_('Error:')}</b> {html.escape(what)}"


def _shown():
    """The label of each of the studio's choices that is not a name (the sources, the modes), in the current
    language; a name (a photo, a texture) is its own label."""
    words = {UPLOAD: _("(uploaded file)"), ADDRESS: _("(image address)"), WEBCAM: _("(webcam snapshot)"),
             OPTIMISE: _("optimise"), FAST: _("fast model")}
    return lambda value: words.get(value, value)

