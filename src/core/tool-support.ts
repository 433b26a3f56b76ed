/** Whether a chat template can render tools: it names them (tools, tool_calls, the tool role). */
export function templateSupportsTools(template: unknown): template is string {
  return typeof template === "string" && /\btools?\b|tool_calls/.test(template);
}
