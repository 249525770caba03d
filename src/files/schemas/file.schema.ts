import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { Types } from 'mongoose';
import { schemaOptions } from '../../common/schema-options.js';

export class MediaInfo {
  duration!: number;
  width!: number;
  height!: number;
  codec!: string;
  frame_rate!: number;
}

/** A media file the system read or wrote. */
@Schema(schemaOptions('files'))
export class File {
  @Prop({ type: Types.ObjectId, required: true, index: true })
  user!: Types.ObjectId;

  @Prop({ type: Types.ObjectId, default: null })
  application!: Types.ObjectId | null;

  @Prop({ required: true })
  uri!: string;

  @Prop({ required: true })
  size!: number;

  /** Null until the worker processing the file has read it through. */
  @Prop({ type: String, default: null })
  sha256!: string | null;

  /** The job that wrote this file (outputs only). */
  @Prop({ type: Types.ObjectId, default: null, index: true })
  job!: Types.ObjectId | null;

  /** The run (lease) of the job that registered it: a run discards only its own records. */
  @Prop({ type: String, default: null })
  run!: string | null;

  @Prop({
    type: { duration: Number, width: Number, height: Number, codec: String, frame_rate: Number },
    _id: false,
    default: null,
  })
  media!: MediaInfo | null;
}

export const FileSchema = SchemaFactory.createForClass(File);
