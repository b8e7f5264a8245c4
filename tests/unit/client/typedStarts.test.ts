import path from 'node:path';
import ts from 'typescript';

/**
 * Workflow starts are checked by the compiler: the fixture holds correct starts and, marked
 * `@ts-expect-error`, starts with a wrong name or input. Compiling it with the project's options
 * must give no diagnostics at all (an expected error that does not happen is one: TS2578).
 */
test('a workflow start with a wrong name or input does not compile', () => {
  const root = path.resolve(__dirname, '../../..');
  const config = ts.getParsedCommandLineOfConfigFile(path.join(root, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
  if (!config) throw new Error('tsconfig.json did not parse');
  const fixture = path.join(__dirname, 'fixtures/typedStarts.ts');
  const program = ts.createProgram([fixture], { ...config.options, noEmit: true, rootDir: root });
  const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file && d.start !== undefined ? `${path.relative(root, d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start).line + 1}` : '';
    return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
  expect(diagnostics).toEqual([]);
  // The fixture must really hold expectations, or this test could not fail.
  expect(program.getSourceFile(fixture)?.text.match(/@ts-expect-error/g)?.length).toBeGreaterThanOrEqual(5);
});
