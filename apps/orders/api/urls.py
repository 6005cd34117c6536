"""Orders API routes under /api/v1/."""

from django.urls import path

from apps.orders.api import views

urlpatterns = [
    path("quotes/", views.QuoteApi.as_view(), name="quote-create"),
    path("orders/", views.OrderListApi.as_view(), name="order-list"),
    path("orders/<uuid:order_id>/", views.OrderDetailApi.as_view(), name="order-detail"),
    path("orders/<uuid:order_id>/cancel/", views.OrderCancelApi.as_view(), name="order-cancel"),
]
