from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    """``page`` and ``page_size`` (default 20, at most 100; nonsense falls back to 20)."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


class CursorPagination(pagination.CursorPagination):
    """For very large collections (serials, audit): stable, no COUNT(*)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = "-created_at"
