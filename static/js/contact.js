/* Tells the page that frames the contact form (the embed script) how tall the form is, so
   the frame grows with it instead of scrolling inside. */
(function () {
  if (window.parent === window) return;
  function tell() {
    window.parent.postMessage(
      { careinboxContactHeight: document.documentElement.scrollHeight }, "*"
    );
  }
  new ResizeObserver(tell).observe(document.body);
  tell();
})();
