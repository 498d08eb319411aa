// Render the math that pymdownx.arithmatex (generic mode) leaves in the page, with the KaTeX
// copy vendored in docs/assets/katex: the site needs no network, in the build or the browser.
document$.subscribe(({ body }) => {
  renderMathInElement(body, {
    delimiters: [
      { left: "$$", right: "$$", display: true },
      { left: "$", right: "$", display: false },
      { left: "\\(", right: "\\)", display: false },
      { left: "\\[", right: "\\]", display: true },
    ],
  });
});
