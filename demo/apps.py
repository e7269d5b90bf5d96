from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data for a first look (``manage.py seed_demo``, then ``seed_demo_serials``).

    Above every domain app, since it creates rows of all of them; nothing imports it.
    """

    name = "demo"
    verbose_name = "Demo data"
