"""Week 3's widget: a layer, a photo and a unit's position, above
:func:`lessons.figures.receptive_field.field_figure`.

Public API: :func:`show_receptive_field`.
"""
from lessons import paths
from lessons import receptive_field as rf
from lessons.figures.receptive_field import field_figure
from widgets.controls import linked_figure


def show_receptive_field(photos=None):
    """The interactive version, for Jupyter: a layer, a photo (default: one a class) and the unit's position."""
    import ipywidgets as widgets

    photos = list(photos or paths.sample_photo_per_class())

    def draw(layer, photo, row, col):
        field = rf.field_of(rf.field_backbone().rows, layer)
        return field_figure(photo, layer, rf.unit_at(field, (row, col)))

    def position(description):
        return widgets.FloatSlider(value=0.5, min=0, max=1, step=0.05, description=description,
                                   continuous_update=False)

    return linked_figure(draw, {
        "layer": widgets.Dropdown(options=rf.layer_choices(), value=rf.DEFAULT_LAYER, description="layer"),
        "photo": widgets.Dropdown(options=[(getattr(p, "name", f"photo {i}"), p) for i, p in enumerate(photos)],
                                  description="photo"),
        "row": position("unit row"), "col": position("unit col")})
