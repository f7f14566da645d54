/**
 * The commands the server executes (`workspace/executeCommand`), which its code actions point at:
 * each checks its argument against the command's schema and forwards to the extension, which owns
 * the store. Moving a secret is refused when the document changed since the diagnostic (the range
 * would name other text).
 */
import { ErrorCodes, ResponseError } from 'vscode-languageserver/node';
import {
  CreateTokenCommand,
  CreateTokenRequest,
  MoveSecretCommand,
  MoveSecretRequest,
  STALE_DOCUMENT,
  receiveArgument,
  type CreateTokenResult,
  type MoveSecretResult,
  type RequestSender,
} from '../core/protocol';

/**
 * Runs `command` with its first argument. `openVersion` gives the version of an open document (the
 * server's copy), undefined when it is not open.
 */
export async function executeCommand(
  extension: RequestSender,
  command: string,
  argument: unknown,
  openVersion: (uri: string) => number | undefined,
): Promise<CreateTokenResult | MoveSecretResult> {
  if (command === CreateTokenCommand.id) return extension.send(CreateTokenRequest, receiveArgument(CreateTokenCommand, argument));
  if (command === MoveSecretCommand.id) {
    const args = receiveArgument(MoveSecretCommand, argument);
    if (openVersion(args.uri) !== args.version) return { moved: false, message: STALE_DOCUMENT };
    return extension.send(MoveSecretRequest, args);
  }
  throw new ResponseError(ErrorCodes.MethodNotFound, `Unknown command ${command}.`);
}
