"""OpenAPI: every operation documents the error responses it can give."""

from __future__ import annotations

from typing import Any, Literal

from drf_spectacular.openapi import AutoSchema as BaseAutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny

from core import deprecation


class ErrorSerializer(serializers.Serializer[Any]):
    """``{"detail": "...", "code": "..."}``: every error but validation errors."""

    detail = serializers.CharField()
    code = serializers.CharField()


class ValidationErrorSerializer(serializers.Serializer[Any]):
    """``{"field": ["message", ...]}``: one key per offending field (or non_field_errors)."""

    non_field_errors = serializers.ListField(child=serializers.CharField(), required=False)

    class Meta:
        ref_name = None


_ERRORS = {
    "400": (ValidationErrorSerializer, "Invalid input: one list of messages per field."),
    "401": (ErrorSerializer, "Missing, invalid, expired or revoked credentials."),
    "403": (ErrorSerializer, "Authenticated but not allowed."),
    "404": (ErrorSerializer, "Not found, outside the caller's sites, or no such page."),
    "405": (ErrorSerializer, "Method not allowed."),
    "406": (ErrorSerializer, "Not acceptable."),
    "409": (ErrorSerializer, "Conflicts with the current state of the resource."),
    "413": (ErrorSerializer, "Request body too large."),
    "415": (ErrorSerializer, "Unsupported media type (send application/json)."),
    "429": (ErrorSerializer, "Too many requests, or sign-in locked out."),
    "503": (ErrorSerializer, "A backing service is unavailable."),
}


class AutoSchema(BaseAutoSchema):
    def is_deprecated(self) -> bool:
        return super().is_deprecated() or deprecation.of(self.view) is not None

    def _get_response_bodies(
        self, direction: Literal["request", "response"] = "response"
    ) -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        if not getattr(self.view, "error_responses", True):
            return responses  # not our endpoint: a request we send (webhooks.schema)
        method = self.method.upper()
        codes = ["400", "405", "406", "503"]
        if not all(isinstance(p, AllowAny) for p in self.view.get_permissions()):
            codes += ["401", "403"]
        if "{" in self.path or (
            method == "GET" and self._get_paginator() is not None and self._is_list_view()  # type: ignore[no-untyped-call]
        ):
            codes.append("404")  # a missing object, or a page / cursor that does not exist
        if method in ("POST", "PUT", "PATCH", "DELETE"):
            codes += ["409", "413", "415"]
        codes.append("429")
        for code in codes:
            if code in responses:
                continue
            serializer, description = _ERRORS[code]
            responses[code] = self._get_response_for_code(  # type: ignore[no-untyped-call]
                OpenApiResponse(response=serializer, description=description),
                code,
                direction=direction,
            )
        if getattr(self.view, "errors_in_json", False):
            # A view answering a document (a PDF, a chart) gives its errors as JSON.
            for code, response in responses.items():
                content = response.get("content") if not code.startswith("2") else None
                if content:
                    response["content"] = {"application/json": next(iter(content.values()))}
        return responses
