import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { Types } from 'mongoose';
import { schemaOptions } from '../../common/schema-options.js';

/** Where a pipeline reads inputs from and writes outputs to. */
@Schema(schemaOptions('pipelines'))
export class Pipeline {
  @Prop({ type: Types.ObjectId, required: true, index: true })
  user!: Types.ObjectId;

  @Prop({ type: Types.ObjectId, default: null })
  application!: Types.ObjectId | null;

  @Prop({ required: true })
  name!: string;

  @Prop({ type: { uri: { type: String, required: true } }, _id: false, required: true })
  input!: { uri: string };

  @Prop({ type: { uri: { type: String, required: true } }, _id: false, required: true })
  output!: { uri: string };
}

export const PipelineSchema = SchemaFactory.createForClass(Pipeline);
