/**
 * Model output as Markdown, safely: markdown-it with raw HTML off (tags come out as text) and
 * DOMPurify over the result as a second line, so model output can never inject HTML or script.
 */
import DOMPurify from "dompurify";
import MarkdownIt from "markdown-it";

const markdown = new MarkdownIt({ html: false, linkify: true, breaks: true });

// Links open outside the shell and never carry the page's address.
DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A") {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer");
  }
});

export function renderMarkdown(text: string): string {
  return DOMPurify.sanitize(markdown.render(text), { USE_PROFILES: { html: true } });
}
