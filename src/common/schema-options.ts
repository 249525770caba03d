import type { SchemaOptions } from '@nestjs/mongoose';

/**
 * Options shared by every collection: snake_case timestamps (as the API shows them), and no
 * implicit `create` command (not every MongoDB-compatible server has it; inserts create
 * collections anyway).
 */
export function schemaOptions(collection: string): SchemaOptions {
  return {
    collection,
    timestamps: { createdAt: 'created_at', updatedAt: 'updated_at' },
    autoCreate: false,
    versionKey: false,
  };
}

export interface Timestamps {
  created_at: Date;
  updated_at: Date;
}
