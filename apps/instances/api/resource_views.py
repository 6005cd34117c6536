"""The API views every resource around a server shares (volumes, networks, firewalls, floating IPs).

Each of those apps exposes the same shapes: a detail (GET, PATCH, DELETE that answers the ``delete``
Action), its Actions' list, and operations that answer 202 with the shared Action. The bases here hold
that behaviour once; an app's view names its selector, serializers and services as class attributes and
documents each method with ``extend_schema_view`` (drf-spectacular isolates inherited methods, so each
operation keeps its own id and text).

Access is the apps' own: ``getter(actor=, public_id=, permission=)`` is the app's ``<noun>_get`` selector,
so another organisation's id is a 404 and a read-only role a 403 on writes (docs/dev/style.md#selectors).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django.db.models import QuerySet
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.pagination import paginate
from apps.instances.api.serializers import ActionOutputSerializer
from apps.teams.api.permissions import ScopedPermission
from apps.teams.choices import Permission

P = Permission


def accepted(action: Any) -> Response:
    """202 with the shared Action (``/api/v1/actions/{id}/``)."""
    return Response(ActionOutputSerializer(action).data, status=status.HTTP_202_ACCEPTED)


# The bases carry no docstring: drf-spectacular would show it as the description of every operation
# that has none of its own.


class ResourceApiView(APIView):
    # Finds the resource of the URL through the app's selector, with the permission the method needs.

    permission_classes = [ScopedPermission]
    #: the URL keyword of the resource's id, e.g. ``volume_id``
    lookup_kwarg: ClassVar[str]
    #: the app's ``<noun>_get(actor=, public_id=, permission=)`` selector
    getter: ClassVar[Callable[..., Any]]
    #: the resource's output serializer
    output_serializer: ClassVar[type[serializers.BaseSerializer[Any]]]

    def resource(self, permission: Permission = P.RESOURCES_READ) -> Any:
        return type(self).getter(
            actor=self.request.user, public_id=self.kwargs[self.lookup_kwarg], permission=permission
        )

    def valid(self, serializer_class: type[serializers.BaseSerializer[Any]]) -> dict[str, Any]:
        """The request body validated by ``serializer_class`` (400 naming the fields otherwise)."""
        data = serializer_class(data=self.request.data)
        data.is_valid(raise_exception=True)
        return dict(data.validated_data)

    def shown(self, obj: Any) -> Response:
        return Response(type(self).output_serializer(obj).data)


class ResourceDetailApi(ResourceApiView):
    # GET the resource; PATCH it through ``update(<noun>=, actor=, **fields)`` and answer it as read
    # again (its selector's joins); DELETE it through ``remove``, answering the ``delete`` Action.

    #: the keyword the services take the resource by, e.g. ``volume``
    noun: ClassVar[str]
    update_serializer: ClassVar[type[serializers.BaseSerializer[Any]]]
    #: the app's ``<noun>_update`` service
    update: ClassVar[Callable[..., Any]]
    #: the app's ``<noun>_delete`` service, answering the ``delete`` Action
    remove: ClassVar[Callable[..., Any]]

    def get(self, request: Request, **kwargs: Any) -> Response:
        return self.shown(self.resource())

    def patch(self, request: Request, **kwargs: Any) -> Response:
        obj = self.resource(P.RESOURCES_WRITE)
        type(self).update(**{self.noun: obj}, actor=request.user, **self.valid(self.update_serializer))
        return self.shown(self.resource())

    def delete(self, request: Request, **kwargs: Any) -> Response:
        return accepted(type(self).remove(**{self.noun: self.resource(P.RESOURCES_WRITE)}, actor=request.user))


class ResourceActionListApi(ResourceApiView):
    # The resource's Actions, newest first, paginated: ``actions(<noun>=)`` is the app's selector.

    noun: ClassVar[str]
    actions: ClassVar[Callable[..., QuerySet[Any]]]

    def get(self, request: Request, **kwargs: Any) -> Response:
        rows = type(self).actions(**{self.noun: self.resource()})
        return paginate(request, self, rows, ActionOutputSerializer)
