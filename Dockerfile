# The teaching site in a container, built from the same folder as the Hugging Face Space:
#   docker build -t mobilenetv2-workbook .
#   docker run --rm -p 7860:7860 mobilenetv2-workbook        # then open http://localhost:7860
# tests/test_space.py runs this file's pip install and health check in a clean venv.

# Stage 1: `python -m lessons space` picks what the site needs (it needs nothing but Python).
FROM python:3.11-slim AS space
WORKDIR /course
COPY . .
RUN python -m lessons space /space

# Stage 2: the site, with the Space's slim requirements only, run by a user without privileges.
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 \
    GRADIO_SERVER_NAME=0.0.0.0 \
    GRADIO_SERVER_PORT=7860 \
    GRADIO_ANALYTICS_ENABLED=False \
    MPLCONFIGDIR=/tmp/matplotlib
RUN useradd --create-home --uid 1000 workbook
WORKDIR /home/workbook/site
COPY --from=space /space/requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY --from=space --chown=workbook:workbook /space .
USER workbook
EXPOSE 7860
# Loading the checkpoint and tracing Grad-CAM take a while: the start period covers them.
HEALTHCHECK --interval=30s --timeout=5s --start-period=90s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:7860/', timeout=4)"
CMD ["python", "app.py"]
