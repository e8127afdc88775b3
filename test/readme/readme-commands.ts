// The shell commands of a Markdown document: every line of its ```sh / ```bash blocks, as a reader copies them.

const SHELL_LANGUAGES = new Set(["sh", "bash", "shell", "console", "zsh"]);

/**
 * The commands of every shell block, in document order: trailing `# comments` dropped, lines
 * ending in `\` joined with the next, blank lines skipped.
 */
export function shellCommands(markdown: string): string[] {
  const commands: string[] = [];
  let inShell = false;
  let inFence = false;
  let pending = "";
  for (const line of markdown.split("\n")) {
    const fence = /^\s*```\s*([\w-]*)\s*$/.exec(line);
    if (fence) {
      if (inFence) {
        inFence = false;
        inShell = false;
      } else {
        inFence = true;
        inShell = SHELL_LANGUAGES.has((fence[1] ?? "").toLowerCase());
      }
      continue;
    }
    if (!inShell) continue;
    const text = withoutComment(line).trimEnd();
    if (text.endsWith("\\")) {
      pending += `${text.slice(0, -1)} `;
      continue;
    }
    const command = (pending + text).trim().replace(/\s+/g, " ");
    pending = "";
    if (command !== "") commands.push(command);
  }
  return commands;
}

/** The line without a `#` comment that starts outside quotes, after a blank or at the start. */
function withoutComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const char = line[i];
    if (quote) {
      if (char === quote) quote = undefined;
    } else if (char === "'" || char === '"') {
      quote = char;
    } else if (char === "#" && (i === 0 || /\s/.test(line[i - 1] ?? ""))) {
      return line.slice(0, i);
    }
  }
  return line;
}
