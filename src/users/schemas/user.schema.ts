import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import type { HydratedDocument } from 'mongoose';
import type { Role } from '../../common/principal.js';
import { schemaOptions } from '../../common/schema-options.js';

@Schema(schemaOptions('users'))
export class User {
  @Prop({ required: true, unique: true, lowercase: true, trim: true })
  email!: string;

  @Prop({ required: true })
  password_hash!: string;

  @Prop({ type: String, default: null })
  name!: string | null;

  @Prop({ type: String, enum: ['admin', 'user'], default: 'user' })
  role!: Role;

  /** Directories (real paths) an admin assigned; empty = the user's own `<root>/<user id>/`. */
  @Prop({ type: [String], default: [] })
  storage_roots!: string[];

  /** Set when an admin deactivates the user: no login, no token works. */
  @Prop({ type: Date, default: null })
  disabled_at!: Date | null;

  /** Tokens issued before this (a password change, a deactivation) no longer work. */
  @Prop({ type: Date, default: null })
  tokens_valid_after!: Date | null;
}

export type UserDocument = HydratedDocument<User>;
export const UserSchema = SchemaFactory.createForClass(User);
