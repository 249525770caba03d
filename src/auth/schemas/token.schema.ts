import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { Types } from 'mongoose';
import { schemaOptions } from '../../common/schema-options.js';

export type TokenType = 'access' | 'refresh';

/**
 * An issued token, stored only as the SHA-256 of its value, which is its `_id`: every request
 * looks its token up by `_id`, the one filter every compatible server answers from an index.
 */
@Schema(schemaOptions('tokens'))
export class Token {
  @Prop({ type: String, required: true })
  _id!: string;

  @Prop({ type: String, enum: ['access', 'refresh'], required: true })
  type!: TokenType;

  @Prop({ type: Types.ObjectId, required: true })
  user!: Types.ObjectId;

  @Prop({ type: Types.ObjectId, default: null })
  application!: Types.ObjectId | null;

  /**
   * Tokens of one grant share it: those issued together and every pair refreshed from them
   * (one refresh-token family, revoked as a whole when a spent refresh token is replayed).
   */
  @Prop({ required: true, index: true })
  grant_id!: string;

  @Prop({ required: true })
  scope!: string;

  @Prop({ type: Date, required: true, expires: 0 })
  expires_at!: Date;

  @Prop({ type: Date, default: null })
  revoked_at!: Date | null;

  /**
   * Whether the client authenticated when the token was issued: such a refresh token is bound
   * to the client and needs its authentication again (RFC 6749 §6).
   */
  @Prop({ default: false })
  client_authenticated!: boolean;
}

export const TokenSchema = SchemaFactory.createForClass(Token);
