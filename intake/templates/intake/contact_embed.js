/* Puts the contact form in a frame where this script stands, as tall as the form is. */
(function () {
  var script = document.currentScript;
  var frame = document.createElement("iframe");
  var src = "{{ form_url|escapejs }}";
  frame.src = src;
  frame.title = "Contact form";
  frame.style.width = "100%";
  frame.style.height = "44rem";
  frame.style.border = "0";
  script.parentNode.insertBefore(frame, script.nextSibling);
  window.addEventListener("message", function (event) {
    var height = event.data && event.data.careinboxContactHeight;
    if (event.source === frame.contentWindow && new URL(src).origin === event.origin && height) {
      frame.style.height = height + "px";
    }
  });
})();
