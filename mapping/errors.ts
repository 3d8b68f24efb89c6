export type JsonPath = ReadonlyArray<string | number>;

/** '$.rows.customer.status', '$.rejects.rules[3].field', '$.fields["odd key"]'. */
export function formatJsonPath(path: JsonPath): string {
  let out = '$';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(seg)) out += `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** A broken mapping document. The message is one line: where (file and JSON path) and what. */
export class MappingConfigError extends Error {
  override name = 'MappingConfigError';
  readonly origin: string;
  readonly jsonPath: string;
  readonly detail: string;

  constructor(origin: string, jsonPath: string, detail: string) {
    super(`invalid mapping ${origin}: ${jsonPath}: ${detail}`.replace(/\s*[\r\n]+\s*/g, ' '));
    this.origin = origin;
    this.jsonPath = jsonPath;
    this.detail = detail;
  }
}

/** Raised while compiling; turned into a MappingConfigError naming the document's origin. */
export class DocumentProblem extends Error {
  constructor(
    readonly path: JsonPath,
    readonly detail: string,
  ) {
    super(`${formatJsonPath(path)}: ${detail}`);
  }
}
