"""Week 3's widget: its controls redraw the receptive-field figure (callbacks nbval never runs)."""
import base64

import matplotlib.pyplot as plt

from lessons import paths
from lessons import receptive_field as rf
from lessons.figures import output
from lessons.figures.receptive_field import field_figure
from widgets.receptive_field import show_receptive_field



def test_the_controls_redraw_the_figure():
    shown = show_receptive_field()
    *controls, view = shown.children
    controls = {control.description: control for control in controls}
    assert list(controls) == ["layer", "photo", "unit row", "unit col"]
    assert controls["layer"].options == tuple(rf.layer_choices()) and controls["layer"].value == rf.DEFAULT_LAYER
    assert [photo for _, photo in controls["photo"].options] == paths.sample_photo_per_class()

    def picture():
        (drawn,) = view.outputs
        return base64.b64decode(drawn["data"]["image/png"])  # the Output widget keeps it as text

    first = picture()  # the centre unit of the last layer on the first photo
    assert first == output.png(field_figure(paths.sample_photo_per_class()[0], rf.DEFAULT_LAYER, (3, 3)))
    controls["unit row"].value = 0
    assert picture() == output.png(field_figure(paths.sample_photo_per_class()[0], rf.DEFAULT_LAYER, (0, 3))) != first
    assert plt.get_fignums() == []  # every figure drawn for the widget is closed
