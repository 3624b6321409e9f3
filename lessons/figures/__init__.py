"""Every picture of the course, one module per topic; each function returns a matplotlib Figure.

The numbers come from the topic's own module in :mod:`lessons`; these modules only draw
them. The notebooks show the figures, ``widgets/`` redraws them when a slider moves and
the Gradio app (``app.py``) serves them.

- :mod:`lessons.figures.conv_cost`: week 1, a standard convolution beside the depthwise +
  pointwise pair (weights, multiply-adds, the ratio 1/C_out + 1/K²);
- :mod:`lessons.figures.blocks`: week 2, the channels through a block and the memory each
  block of MobileNetV2 needs;
- :mod:`lessons.figures.manifold`: week 2, the ReLU spiral (the paper's Figure 1);
- :mod:`lessons.figures.receptive_field`: week 3, a unit's theoretical and effective field;
- :mod:`lessons.figures.gradcam`: week 3, Grad-CAM maps as computed and as the app shows them;
- :mod:`lessons.figures.data`: week 4 before training, the photos per class, a grid of
  them, what augmentation (and colour augmentation) does to one;
- :mod:`lessons.figures.results`: week 4 after training, the learning curve, accuracy per
  class, the confusion matrix, the photos the model got wrong, accuracy against data size;
- :mod:`lessons.figures.output`: a drawn figure handed on, as PNG bytes or to Gradio.
"""
