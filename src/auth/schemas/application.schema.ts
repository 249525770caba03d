import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { type HydratedDocument, Types } from 'mongoose';
import { schemaOptions } from '../../common/schema-options.js';

/** An OAuth 2.0 client of one user. */
@Schema(schemaOptions('applications'))
export class Application {
  @Prop({ type: Types.ObjectId, required: true, index: true })
  user!: Types.ObjectId;

  @Prop({ required: true })
  name!: string;

  @Prop({ required: true, unique: true })
  client_id!: string;

  /** SHA-256 of the secret: the secret is shown once, at creation, and never stored. */
  @Prop({ required: true })
  client_secret_hash!: string;

  /** The client that password-grant tokens are attributed to when no client is named. */
  @Prop({ default: false })
  is_default!: boolean;
}

export type ApplicationDocument = HydratedDocument<Application>;
export const ApplicationSchema = SchemaFactory.createForClass(Application);
