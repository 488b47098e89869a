// The "Afficher" checkbox of a password field (the DSFR's fr-password component): shows the
// password while checked. Loaded from our own origin; the pages keep working without it (the
// checkbox then does nothing, the field stays masked).
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("input[data-password-toggle]").forEach(function (box) {
    var field = document.getElementById(box.getAttribute("data-password-toggle"));
    if (!field) {
      return;
    }
    box.addEventListener("change", function () {
      field.type = box.checked ? "text" : "password";
    });
  });
});
