// The "Contents" drawer on a phone (pydata-sphinx-theme's <dialog id="pst-secondary-sidebar-modal">)
// stays open over the page after a tap on one of its sections, so the reader sees the list, not
// the section it scrolled to. Close it on such a tap; the browser then follows the #link.
document.addEventListener("click", (event) => {
  const link = event.target.closest("dialog[open] a[href^='#']");
  if (link) link.closest("dialog").close();
});
