FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY winwin_crm winwin_crm
COPY deals deals
COPY handoff handoff
RUN pip install --no-cache-dir .
COPY . .
EXPOSE 8000
CMD ["gunicorn", "winwin_crm.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "2"]
