"""ipywidgets that let a student *see* each week's idea: controls wired to a figure.

Nothing here computes or draws: every ``show_...()`` wires sliders and menus to a figure
function of :mod:`lessons.figures` (the Gradio app serves the same figures), whose numbers
come from :mod:`lessons`.

- :mod:`widgets.conv_cost`: week 1, :func:`widgets.conv_cost.show_conv_cost`;
- :mod:`widgets.manifold`: week 2, :func:`widgets.manifold.show_manifold`;
- :mod:`widgets.receptive_field`: week 3, :func:`widgets.receptive_field.show_receptive_field`;
- :mod:`widgets.controls`: how every one of them redraws its figure.
"""
