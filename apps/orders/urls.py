"""Portal routes of orders."""

from django.urls import path

from apps.orders import views

app_name = "orders"

urlpatterns = [
    path("orders/", views.order_list, name="order_list"),
    path("orders/new/", views.order_create, name="order_create"),
    path("orders/new/choices/", views.order_choices, name="order_choices"),
    path("orders/<uuid:order_id>/", views.order_detail, name="order_detail"),
    path("orders/<uuid:order_id>/cancel/", views.order_cancel, name="order_cancel"),
]
